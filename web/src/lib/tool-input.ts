/**
 * The input fields of a tool use that its approval's subject does not show:
 * a person approving `Bash` must also see `run_in_background` or `timeout`,
 * one approving an `Edit` must see `replace_all`, since they change what the
 * tool does.
 */

/** The fields each kind of subject already shows (the command, the file and its change). */
const SHOWN: Record<string, readonly string[]> = {
  command: ['command', 'description'],
  edit: ['file_path', 'old_string', 'new_string', 'content', 'edits'],
  other: [],
};

export interface InputField {
  key: string;
  /** The value as text: a string as it is, anything else as JSON. */
  value: string;
  /** Set for a field that widens what the tool does (Edit's `replace_all: true`). */
  warning?: string;
}

/** Every field of `input` that a subject of `kind` does not show, in the input's order. */
export function extraInputFields(kind: string, input: Record<string, unknown>): InputField[] {
  const shown = SHOWN[kind] ?? [];
  return Object.entries(input)
    .filter(([key]) => !shown.includes(key))
    .map(([key, v]) => {
      const value = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
      return key === 'replace_all' && v === true
        ? { key, value, warning: 'every occurrence is replaced, not only the one shown' }
        : { key, value };
    });
}
