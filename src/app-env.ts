import type { TimingVariables } from "hono/timing";

/** The Hono environment of every route: Worker bindings and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The repository named in the path, validated. */
    repo: string;
  } & TimingVariables;
}
