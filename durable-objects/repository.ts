import { DurableObject } from "cloudflare:workers";
export class Repository extends DurableObject<Env> {
  async ping(): Promise<number> { return this.ctx.storage.sql.exec("select 1 as x").one().x as number; }
}
