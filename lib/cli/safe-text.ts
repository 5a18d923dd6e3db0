/**
 * Stored text made safe for a terminal. Titles, bodies, labels, actor names
 * and error messages can arrive from any replica through sync; printed raw,
 * an escape sequence in one could set the window title, clear the screen,
 * recolour or hide what follows, a NUL or carriage return could make one
 * line pass for another, and a bidirectional override could reorder what is
 * read. Every such character is shown as a visible escape instead
 * (`\x1b`, `\0`, `\u202e`); JSON output is left exact (JSON escapes C0
 * controls itself, and a program, not a terminal, reads it).
 */

// C0 controls except tab and newline, DEL, C1 controls, and the invisible
// bidirectional and zero-width formatting characters.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g

function visible(c: string): string {
  const code = c.charCodeAt(0)
  if (code === 0) return '\\0'
  if (code === 0x0a) return '\\n'
  if (code === 0x0d) return '\\r'
  if (code === 0x09) return '\\t'
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Text for a terminal: newlines and tabs kept, every other control or formatting character made visible. */
export function terminalText(s: string): string {
  return s.replace(UNSAFE, visible)
}

/** As {@link terminalText} for a field shown on one line (a title, a label): newlines made visible too. */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_ONE_LINE, visible)
}
