/**
 * Removal of ANSI/VT escape sequences, so that coloured output (`\x1b[31mERROR\x1b[0m`)
 * reads as plain text.
 *
 * @module
 */

// One alternative per kind of sequence, tried in this order at each escape:
// - CSI (ESC [ or the C1 byte 0x9B): parameter bytes 0x30-0x3F, intermediate bytes
//   0x20-0x2F, a final byte 0x40-0x7E; SGR colours are CSI sequences ending in "m".
// - String sequences (OSC ESC ], DCS ESC P, SOS ESC X, PM ESC ^, APC ESC _): their text up to
//   BEL, ST (ESC \) or C1 ST (0x9C). The text stops at the next ESC, so an unterminated one
//   costs one scan to that ESC, not to the end of the line; it then falls to the next
//   alternative, which removes only its introducer and keeps the text.
// - Any other ESC sequence: intermediate bytes, then a final byte 0x30-0x7E (ESC ( B, ESC 7).
// - A lone ESC or 0x9B that starts nothing complete.
// The C1 forms of the string sequences (0x90, 0x9D...) are left alone: UTF-8 programs do
// not write them, and looking for them would slow down the check of every line.
const SEQUENCE =
  // Matching control characters is the point.
  // deno-lint-ignore no-control-regex
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|\x1b[ -/]*[0-~]|[\x1b\x9b]/g;

/**
 * `text` without its ANSI/VT escape sequences: CSI (colours, cursor and erase commands,
 * also introduced by the C1 byte 0x9B), OSC and other string sequences terminated by BEL or
 * ST, and two-byte ESC sequences. Text without ESC or 0x9B is returned as is.
 */
export function stripAnsi(text: string): string {
  // Two native substring searches cost less than one regex scan of a line.
  if (text.indexOf("\x1b") === -1 && text.indexOf("\x9b") === -1) return text;
  return text.replace(SEQUENCE, "");
}
