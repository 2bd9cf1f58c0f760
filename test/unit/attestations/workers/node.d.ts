/**
 * The little of node:crypto and node:buffer that workers/sigstore-js.ts uses
 * (workerd provides them under nodejs_compat; this program has no @types/node).
 */
declare module "node:crypto" {
  export interface KeyObject {
    readonly asymmetricKeyType?: string;
  }
  export function verify(
    algorithm: string | null | undefined,
    data: Uint8Array,
    key: KeyObject,
    signature: Uint8Array,
  ): boolean;
  const crypto: { verify: typeof verify };
  export default crypto;
}

declare module "node:buffer" {
  export const Buffer: { from(text: string): Uint8Array };
}
