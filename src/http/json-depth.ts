/**
 * The deepest nesting of arrays and objects in JSON text, stopping as soon as it passes `limit`.
 * Checked before parsing: JSON.parse itself copes with deep nesting, but code that walks a value
 * recursively (String(), JSON.stringify, error messages) would overflow the stack on it.
 */
export function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 92) index++; // backslash: skip the escaped character
      else if (code === 34) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 91 || code === 123) {
      if (++depth > limit) return true;
    } else if (code === 93 || code === 125) depth--;
  }
  return false;
}
