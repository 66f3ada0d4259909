/**
 * Permission-scoped runs (README "Permissions"): LogWisp serving under `--allow-read=<one dir>
 * --allow-net` only, no `--allow-env`, no write or run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { append, tempDir, waitFor } from "../src/_test_utils.ts";
import {
  connectTcp,
  freePort,
  getJson,
  serversToml,
  startLogWisp,
  streamToml,
} from "./_logwisp.ts";

Deno.test("under --allow-read=<dir> --allow-net only, targets inside the dir are served", async () => {
  await using dir = await tempDir("logwisp_scoped_");
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const config = join(dir.path, "logwisp.toml");
  await Deno.writeTextFile(config, streamToml(dir.path, "app", serversToml({ httpPort, tcpPort })));
  await using logwisp = await startLogWisp(["--config", config, "--quiet"], {
    permissions: [`--allow-read=${dir.path}`, "--allow-net"],
  });
  using client = await connectTcp(tcpPort);
  await waitFor(async () => {
    const status = await getJson(`http://127.0.0.1:${httpPort}/status`) as {
      tcp: { active_clients: number };
    };
    return status.tcp.active_clients === 1;
  });
  await append(log, "ERROR inside the scope\n");
  const [line] = await client.take(1);
  assert.equal(JSON.parse(line!).message, "ERROR inside the scope");
  assert.ok(!logwisp.log.some((text) => /NotCapable|PermissionDenied|Error:/.test(text)));
  assert.equal((await logwisp.stop()).code, 0);
});
