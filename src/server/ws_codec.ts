import type { HeartbeatConfig } from "../config/types.ts";
import { type Codec, encodeTexts } from "../stream/codec.ts";
import { heartbeatJson } from "./heartbeat.ts";
import { connectedJson, gapJson, type StreamInfo } from "./sse.ts";
import { frameHeaderLength, textFrame, writeFrameHeader } from "./websocket/frame.ts";

const encoder = new TextEncoder();

function message(value: Record<string, unknown>): Uint8Array {
  return textFrame(encoder.encode(JSON.stringify(value)));
}

/**
 * WebSocket messages: each one JSON text frame with a `type`. `connected` first (the fields
 * of the SSE `connected` event), `gap` when a resuming client missed entries, then
 * `{"type":"entry","id":…,"entry":{…}}`, `heartbeat` (when enabled) and `disconnect` last.
 * A batch's entry frames are written into one buffer, headers and payloads, and handed out
 * as views of it.
 */
export function wsCodec(info: StreamInfo, heartbeat: HeartbeatConfig): Codec {
  return {
    transport: "ws",
    encode(entries) {
      const payloads = encodeTexts(
        entries.map((entry) =>
          `{"type":"entry","id":${JSON.stringify(entry.id)},"entry":${entry.json}}`
        ),
      );
      let total = 0;
      for (const payload of payloads) total += frameHeaderLength(payload.length) + payload.length;
      const bytes = new Uint8Array(total);
      const frames: Uint8Array[] = new Array(payloads.length);
      let offset = 0;
      payloads.forEach((payload, i) => {
        const start = offset;
        offset = writeFrameHeader(bytes, offset, payload.length);
        bytes.set(payload, offset);
        offset += payload.length;
        frames[i] = bytes.subarray(start, offset);
      });
      return frames;
    },
    greeting({ clientId, gap }) {
      const connected = message({ type: "connected", ...connectedJson(info, clientId) });
      if (!gap) return connected;
      const gapFrame = message({ type: "gap", ...gapJson(gap) });
      const both = new Uint8Array(connected.length + gapFrame.length);
      both.set(connected);
      both.set(gapFrame, connected.length);
      return both;
    },
    heartbeat: (stats, now) =>
      heartbeat.enabled
        ? textFrame(encoder.encode(heartbeatJson(heartbeat, stats, now)))
        : undefined,
    farewell: (reason) => message({ type: "disconnect", reason }),
  };
}
