/**
 * Published test vectors for the transparency-log core (src/log), copied as
 * data with their sources. Hashes are lower-case hex.
 */

// ---------------------------------------------------------------------------
// RFC 6962 test tree (the Certificate Transparency reference vectors), from
// transparency-dev/merkle (Apache-2.0):
// - testonly/constants.go at commit 77f1b57d7aa25fcd2e51273166b6b2b0e74923b1:
//   LeafInputs, NodeHashes, RootHashes;
// - proof/verify_test.go at commit 022f84cb1f2655a4399874cfa190c3f1d60b32a8:
//   inclusionProofs (leaf numbers there are 1-based: leaf − 1 is the index)
//   and consistencyProofs. The same proofs are the "happy-path" probes in
//   testdata/{inclusion,consistency}/{1..4}/ at commit 8c666a79ae695b010ac709a5d662e1f4fae5cd1a.
// ---------------------------------------------------------------------------

/** testonly.LeafInputs(): the entries, hex. */
export const RFC6962_LEAF_INPUTS = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];

/** testonly.NodeHashes(): [level][index], the complete subtrees of the 8-leaf tree. */
export const RFC6962_NODE_HASHES = [
  [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  ],
  [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
  ],
  [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
  ],
  ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/** testonly.RootHashes(): the root of the first n leaves, n = 0..8. */
export const RFC6962_ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/** verify_test.go inclusionProofs, with the 1-based leaf turned into a 0-based index. */
export const RFC6962_INCLUSION_PROOFS: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    index: 1,
    size: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];

/** verify_test.go consistencyProofs. */
export const RFC6962_CONSISTENCY_PROOFS: { size1: number; size2: number; proof: string[] }[] = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
];

// ---------------------------------------------------------------------------
// C2SP signed-note, tlog-checkpoint and tlog-cosignature (CC BY 4.0), at
// C2SP/C2SP commit 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9.
// ---------------------------------------------------------------------------

/** signed-note.md "Verifier keys" → "Example". */
export const C2SP_NOTE_EXAMPLE = {
  vkey: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
  note:
    "This is an example message.\n\n" +
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n",
};

/** tlog-cosignature.md: the example checkpoint with a log signature and a witness cosignature (keys unpublished). */
export const C2SP_COSIGNED_CHECKPOINT =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
  "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
  "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

/** tlog-cosignature.md "Ed25519 signed message": the example's timestamp and message. */
export const C2SP_COSIGNATURE_MESSAGE = {
  timestamp: 1679315147,
  message:
    "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
};

// ---------------------------------------------------------------------------
// golang/mod (BSD-3-Clause), sumdb/note/note_test.go at commit
// fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db (TestNewVerifier, TestNewSigner,
// TestSign, TestOpen).
// ---------------------------------------------------------------------------

export const GO_NOTE = {
  peterSkey: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
  peterVkey: "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  enochVkey: "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  peterSig:
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
  enochSig:
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n",
  /** TestNewVerifier: a 32-byte key + "BADKEY==" with the key hash adjusted, and an unknown algorithm byte. */
  badVkeys: [
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  ],
};

// ---------------------------------------------------------------------------
// transparency-dev/formats (BSD-3-Clause), note/note_cosigv1_test.go at commit
// fa283eb7462a3457900a53cace57edce4b080cd3: TestCoSigV1Timestamp ("works") and
// TestNewVerifierForCosignatureV1 (the remora.n621.de witness's vkey, type 0x04).
// ---------------------------------------------------------------------------

export const FORMATS_COSIG_TIMESTAMP = {
  base64: "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==",
  timestamp: 1727964367,
};
export const REMORA_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";

// ---------------------------------------------------------------------------
// A checkpoint served by the arche2025h1.staging.ct.transparency.dev log,
// with its Ed25519 (0x01) signature, an RFC 6962 (0x05) signature and four
// witness cosignatures (0x04), as recorded in florolf/tlog-scales,
// tests/test_signing.py (TestCheckpointVerification) at commit
// dfd5c4bf3b0c9703a6760e52e80e2515ee53f86e, with the log's and the remora
// witness's vkeys.
// ---------------------------------------------------------------------------

export const ARCHE_LOG_VKEY =
  "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
export const ARCHE_CHECKPOINT =
  "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n\n" +
  "\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n" +
  "\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n" +
  "\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n" +
  "\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n" +
  "\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n" +
  "\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n";

// ---------------------------------------------------------------------------
// Tile paths: C2SP tlog-tiles.md (commit above) and transparency-dev/tessera
// (Apache-2.0) api/layout/paths_test.go at commit fabf80bd7e2a1a4b9a764ba50cde9da2b3132ee7.
// Tile counts: golang/mod sumdb/tlog/tile_test.go TestNewTilesForSize at
// commit 87140ecd02dd794a1acc173c48f0c8c52cd3a339 (tile height 10).
// ---------------------------------------------------------------------------

export const TESSERA_TILE_PATHS: { level: number; index: number; width: number; path: string }[] = [
  { level: 0, index: 0, width: 256, path: "tile/0/000" },
  { level: 0, index: 0, width: 255, path: "tile/0/000.p/255" },
  { level: 1, index: 0, width: 256, path: "tile/1/000" },
  { level: 15, index: 455667, width: 256, path: "tile/15/x455/667" },
  { level: 15, index: 123456789, width: 41, path: "tile/15/x123/x456/789.p/41" },
];

export const TESSERA_ENTRIES_PATHS: { index: number; width: number; path: string }[] = [
  { index: 0, width: 256, path: "tile/entries/000" },
  { index: 0, width: 8, path: "tile/entries/000.p/8" },
  { index: 255, width: 256, path: "tile/entries/255" },
  { index: 255, width: 253, path: "tile/entries/255.p/253" },
  { index: 123456789, width: 256, path: "tile/entries/x123/x456/789" },
];

/** TestEntriesPathForLogIndex: the bundle holding entry `seq` in a log of `size`. */
export const TESSERA_ENTRY_BUNDLES: { seq: number; size: number; path: string }[] = [
  { seq: 0, size: 256, path: "tile/entries/000" },
  { seq: 255, size: 256, path: "tile/entries/000" },
  { seq: 251, size: 255, path: "tile/entries/000.p/255" },
  { seq: 256, size: 512, path: "tile/entries/001" },
  { seq: 3, size: 257, path: "tile/entries/000" },
  { seq: 256, size: 257, path: "tile/entries/001.p/1" },
];

/** TestNewTilesForSize (height 10): the number of tiles to write growing from old to new. */
export const GO_NEW_TILES_H10: { old: number; new: number; want: number }[] = [
  { old: 1, new: 1, want: 0 },
  { old: 100, new: 101, want: 1 },
  { old: 1023, new: 1025, want: 3 },
  { old: 1024, new: 1030, want: 1 },
  { old: 1030, new: 2000, want: 1 },
  { old: 1030, new: 10000, want: 10 },
  { old: 49516517, new: 49516586, want: 3 },
];

// ---------------------------------------------------------------------------
// Tile contents of the 70,000-entry tree of the tlog-tiles example, entry i
// being i as a 4-byte big-endian integer. Computed independently from the
// spec's formula MTH(D[(n·256 + i)·256**l : (n·256 + i + 1)·256**l]) with a
// plain recursive RFC 6962 MTH in Python (hashlib):
//   LH = [sha256(b"\0" + struct.pack(">I", i)).digest() for i in range(70000)]
//   mth(a, b) = LH[a] if b − a == 1 else sha256(b"\1" + mth(a, a+k) + mth(a+k, b)), k = largest 2**j < b − a
//   tile(l, n, w) = b"".join(mth((n*256+i)*256**l, (n*256+i+1)*256**l) for i in range(w))
// The digests are SHA-256 of the tile bytes; the bundle is the uint16-prefixed entries 69888..69999.
// ---------------------------------------------------------------------------

export const TILES_70000 = {
  size: 70000,
  root: "339ecf3ae716405fdc28cef164e45a785cade0d5bc3e1400a7a4d70d0b2dec9b",
  tiles: [
    { path: "tile/0/000", sha256: "2c715dd97e9cb86edffcc77e807fbe36a81de413e8d2f482ef4ac5bccb57b1ce" },
    { path: "tile/0/273.p/112", sha256: "9b57fcecc3174fe71094d34d1a0f9360a327fc8f469175be773701506d8b8f9f" },
    { path: "tile/1/000", sha256: "38f81de47c7ffec67069a9c1a034f58331f07b832a35d47c5a44b79481f75952" },
    { path: "tile/1/001.p/17", sha256: "863ef73fc3b5a762d44e032d862a290dec917c77195eef6d833bea4eb31f040a" },
    { path: "tile/2/000.p/1", sha256: "aabd99b22cae1342f5bcaa4693b5bb37f9b7fe061ae10796a473511d19759789" },
  ],
  root256: "78cd7db3bbfa785ffefa21e1c0aa7d4806c6e22ad65472710377ecb7e5a5a54e",
  root65536: "208bed836edee10551d1a0208e22c9eead1a59c4c33abeb697eb60132f61a798",
  lastBundle: {
    path: "tile/entries/273.p/112",
    length: 672,
    sha256: "daeb6a8b9c8ab0ee6b40e3352f2ecd82ce661306c80fddd01daa34eb71507e89",
  },
};
