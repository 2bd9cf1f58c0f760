import { describe, expect, it } from "vitest";
import { DEFAULT_EXPIRY, expiresAt, ExpiryPolicySchema } from "../../src/tuf/expiry.ts";

const DAY = 86_400;

describe("expiry policy", () => {
  it("defaults: root 365 d, targets 365 d, bins 1 d, snapshot 1 d, timestamp 1 d", () => {
    expect(DEFAULT_EXPIRY).toEqual({
      root: 365 * DAY,
      targets: 365 * DAY,
      bins: DAY,
      snapshot: DAY,
      timestamp: DAY,
    });
    expect(ExpiryPolicySchema.parse({})).toEqual(DEFAULT_EXPIRY);
  });

  it("keeps the roles it is given and defaults the rest", () => {
    expect(ExpiryPolicySchema.parse({ timestamp: 300, bins: 7 * DAY })).toEqual({
      ...DEFAULT_EXPIRY,
      timestamp: 300,
      bins: 7 * DAY,
    });
  });

  it("enforces each role's bounds", () => {
    const ok = [
      { root: DAY },
      { root: 3650 * DAY },
      { targets: 3600 },
      { bins: 365 * DAY },
      { snapshot: 600 },
      { timestamp: 300 },
      { timestamp: 30 * DAY },
    ];
    for (const policy of ok) expect(ExpiryPolicySchema.safeParse(policy).success, JSON.stringify(policy)).toBe(true);
    const bad = [
      { root: DAY - 1 },
      { root: 3650 * DAY + 1 },
      { targets: 3599 },
      { bins: 3599 },
      { bins: 365 * DAY + 1 },
      { snapshot: 599 },
      { timestamp: 299 },
      { timestamp: 30 * DAY + 1 },
      { timestamp: 300.5 },
      { timestamp: "300" },
      { delegations: DAY },
    ];
    for (const policy of bad) expect(ExpiryPolicySchema.safeParse(policy).success, JSON.stringify(policy)).toBe(false);
  });
});

describe("expiresAt", () => {
  const now = new Date("2026-11-22T03:12:52.345Z");

  it("adds the role's validity to now, in TUF's format", () => {
    expect(expiresAt(DEFAULT_EXPIRY, "root", now)).toBe("2027-11-22T03:12:52Z");
    expect(expiresAt(DEFAULT_EXPIRY, "targets", now)).toBe("2027-11-22T03:12:52Z");
    expect(expiresAt(DEFAULT_EXPIRY, "bins", now)).toBe("2026-11-23T03:12:52Z");
    expect(expiresAt(DEFAULT_EXPIRY, "snapshot", now)).toBe("2026-11-23T03:12:52Z");
    expect(expiresAt(DEFAULT_EXPIRY, "timestamp", now)).toBe("2026-11-23T03:12:52Z");
  });

  it("uses the given policy", () => {
    const policy = ExpiryPolicySchema.parse({ timestamp: 300 });
    expect(expiresAt(policy, "timestamp", now)).toBe("2026-11-22T03:17:52Z");
  });
});
