import assert from "node:assert/strict";
import { FAMILIES } from "./families.ts";

/** The families and labels dashboards and alerts rely on, as the product promises them. */
const CONTRACT = `
logwisp_build_info{version,deno} gauge
logwisp_entries_total{stream} counter
logwisp_bytes_read_total{stream} counter
logwisp_filtered_entries_total{stream} counter
logwisp_truncated_lines_total{stream} counter
logwisp_rotations_total{stream,reason} counter
logwisp_read_errors_total{stream} counter
logwisp_watched_files{stream,state} gauge
logwisp_clients{stream,transport} gauge
logwisp_connections_total{stream,transport} counter
logwisp_connections_rejected_total{stream,transport,reason} counter
logwisp_entries_sent_total{stream,transport} counter
logwisp_bytes_sent_total{stream,transport} counter
logwisp_entries_dropped_total{stream,transport} counter
logwisp_slow_clients_disconnected_total{stream} counter
logwisp_expensive_filters_disconnected_total{stream} counter
logwisp_auth_failures_total{stream,reason} counter
logwisp_tls_certificate_expiry_timestamp_seconds{stream,server} gauge
logwisp_publish_state{stream,state} gauge
logwisp_published_entries_total{stream} counter
logwisp_publish_pending{stream} gauge
logwisp_read_to_send_seconds histogram
process_resident_memory_bytes gauge
process_cpu_seconds_total counter
process_open_fds gauge
process_start_time_seconds gauge
`.trim().split("\n");

Deno.test("FAMILIES are exactly the promised names, labels and types", () => {
  const written = FAMILIES.map((family) =>
    `${family.name}${
      family.labelNames.length === 0 ? "" : `{${family.labelNames.join(",")}}`
    } ${family.type}`
  );
  assert.deepEqual(written.toSorted(), CONTRACT.toSorted());
});

Deno.test("FAMILIES have distinct names and help texts that end with a period", () => {
  assert.equal(new Set(FAMILIES.map((family) => family.name)).size, FAMILIES.length);
  for (const family of FAMILIES) assert.match(family.help, /^[A-Z].*\.$/, family.name);
});
