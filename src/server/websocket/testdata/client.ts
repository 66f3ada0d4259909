/**
 * A WebSocket client in its own process, for tests that kill it: connects to the URL in
 * `Deno.args[1]` with Deno's WebSocket (`deno`) or npm `ws` (`ws`), sends `"ready"` and
 * then waits to be killed.
 *
 * @module
 */
import NodeWebSocket from "ws";

const [kind, url] = Deno.args;
if (kind === "deno") {
  const socket = new WebSocket(url!);
  socket.onopen = () => socket.send("ready");
} else {
  const socket = new NodeWebSocket(url!);
  socket.on("open", () => socket.send("ready"));
}
setInterval(() => {}, 60_000);
