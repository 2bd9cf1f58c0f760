/** How a zod validation failure is reported, by routes and the Durable Object alike. */

/** A zod error (any schema's). */
interface Issues {
  readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
}

/** One offending field: its dotted path ("add.3.hashes.sha256"; "(body)" for the whole value) and what is wrong. */
export interface FieldError {
  path: string;
  message: string;
}

/** The first 100 offending fields. */
export function fieldErrors(error: Issues): FieldError[] {
  return error.issues.slice(0, 100).map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

/** "path: message; …", at most 2000 characters, for a problem's detail. */
export function describeIssues(error: Issues): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join(".") || "(body)"}: ${issue.message}`)
    .join("; ")
    .slice(0, 2000);
}
