/** A repository name: it is a path segment, an R2 key prefix and a Durable Object name. */
export const REPOSITORY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
