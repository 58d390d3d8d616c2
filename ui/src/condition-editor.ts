// A condition editor: CodeMirror 6 with CEL highlighting and as-you-type checking by the
// server (POST /api/router/validate, debounced by the linter), problems shown with line:column.
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { EditorView, basicSetup } from 'codemirror';
import { api, type ConditionProblem, type ValidateResult } from './api.js';
import { celLanguage } from './cel-language.js';

export interface ConditionEditor {
  view: EditorView;
  value(): string;
}

/** Document offset of a 1-based line:column, clamped into the document. */
function offsetOf(view: EditorView, line: number, column: number): number {
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return Math.min(l.from + Math.max(column - 1, 0), l.to);
}

/**
 * `problems` receives the current problems (empty when the condition is fine) so the page
 * can show them as text next to the editor as well as underlined in it.
 */
export function conditionEditor(
  parent: HTMLElement,
  doc: string,
  on: { change: (value: string) => void; problems: (p: ConditionProblem[]) => void },
): ConditionEditor {
  const check = linter(
    async (view): Promise<Diagnostic[]> => {
      const condition = view.state.doc.toString();
      let r: ValidateResult;
      try {
        r = await api<ValidateResult>('POST', '/api/router/validate', { condition });
      } catch {
        return []; // the server is unreachable: the save will say what is wrong
      }
      if (view.state.doc.toString() !== condition) return []; // stale: a newer check follows
      const problems = r.problems ?? [];
      on.problems(problems);
      return problems.map((p) => {
        const from = offsetOf(view, p.line, p.column);
        return { from, to: Math.min(from + 1, view.state.doc.length), severity: 'error', message: `${p.line}:${p.column}: ${p.message}` };
      });
    },
    { delay: 300 },
  );
  const view = new EditorView({
    doc,
    parent,
    extensions: [
      basicSetup,
      celLanguage,
      check,
      lintGutter(),
      EditorView.lineWrapping,
      EditorView.updateListener.of((u) => {
        if (u.docChanged) on.change(u.state.doc.toString());
      }),
    ],
  });
  return { view, value: () => view.state.doc.toString() };
}
