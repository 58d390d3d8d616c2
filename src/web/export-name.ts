/**
 * The file name of a zip export, from what a person recognises (patient, date, description)
 * rather than UIDs, made safe for any file system and any header: ASCII letters, digits,
 * '-' and '_' only (accents dropped, everything else one '_'), each part and the whole
 * bounded. A de-identified export is named by its new identity only: nothing of the
 * original patient, study or UIDs.
 */

/** Longest part, and longest name before ".zip". */
const PART_MAX = 48;
const NAME_MAX = 120;

/** One part of a name: DOE^JANE -> DOE_JANE, "Tête/cou" -> Tete_cou; '' when nothing is left. */
export function safeNamePart(text: string): string {
  const ascii = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let out = '';
  let gap = false;
  // A character loop, not a regular expression over the input: linear whatever the text.
  for (const ch of ascii) {
    if (/^[A-Za-z0-9-]$/.test(ch)) {
      if (gap && out) out += '_';
      out += ch;
      gap = false;
      if (out.length >= PART_MAX) break;
    } else gap = true;
  }
  return out;
}

/** `parts` joined with '_' (empty ones left out) + ".zip"; `fallback` when none has a safe character. */
export function zipFileName(parts: readonly (string | undefined | null)[], fallback: string): string {
  const name = parts
    .map((p) => safeNamePart(p ?? ''))
    .filter(Boolean)
    .join('_')
    .slice(0, NAME_MAX)
    .replace(/_+$/, '');
  return `${name || fallback}.zip`;
}
