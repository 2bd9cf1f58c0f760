import { describe, expect, it } from "vitest";
import { operationsView, renderOperations } from "../../scripts/cli/operations-view.ts";

/** /metrics text as src/metrics/prometheus.ts writes it (a few families; labels as the object sets them). */
const exposition = (extra: string) => `# TYPE tuf_edge_log_entries gauge
tuf_edge_log_entries{repository="r"} 1065512
tuf_edge_quarantined_targets{repository="r"} 0
${extra}`;

// No colours: the output is not a terminal under vitest, so red text is the text itself.
const lines = (metrics: string) => renderOperations(operationsView(metrics, null)).join("\n");

describe("tuf-edge status: operations", () => {
  it("shows the log's entries kept whole and the object's storage against the platform's 10 GB", () => {
    const view = operationsView(
      exposition(`tuf_edge_log_entries_kept{repository="r"} 65536
tuf_edge_storage_bytes{repository="r"} 485000000`),
      null,
    );
    expect(view).toMatchObject({ logEntries: 1_065_512, logKept: 65_536, storageBytes: 485_000_000 });
    const text = renderOperations(view).join("\n");
    expect(text).toContain("log: 1065512 entries (65536 kept whole)");
    expect(text).toContain("storage: 485.0 MB of the 10 GB a repository's object may hold (4.9 %)");
  });

  it("shows how far the target pages are behind the log while they follow, and nothing once they have", () => {
    expect(lines(exposition(`tuf_edge_site_documents_behind{repository="r"} 17133`))).toContain(
      "pages: 17133 published log entries not yet on their targets' pages (they follow on their own)",
    );
    expect(lines(exposition(`tuf_edge_site_documents_behind{repository="r"} 0`))).not.toContain("pages:");
  });

  it("says when the object's alarm had to be set again, and nothing while it never had to", () => {
    expect(lines(exposition(`tuf_edge_alarms_rearmed_total{repository="r"} 2`))).toContain(
      "alarm: found past due without having fired and set again 2 time(s)",
    );
    expect(lines(exposition(`tuf_edge_alarms_rearmed_total{repository="r"} 0`))).not.toContain("alarm:");
  });

  it("leaves out what an older service does not report, rather than showing zeros", () => {
    const text = lines(exposition(""));
    expect(text).toContain("log: 1065512 entries   quarantined: 0");
    expect(text).not.toContain("kept whole");
    expect(text).not.toContain("storage:");
    expect(text).not.toContain("pages:");
    expect(text).not.toContain("alarm:");
  });
});
