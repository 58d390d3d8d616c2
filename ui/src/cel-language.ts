// Syntax highlighting for router conditions (CEL) in CodeMirror: a small stream tokenizer
// and a highlight style for its tokens (the default style leaves identifiers and operators plain).
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StreamParser } from '@codemirror/language';
import { tags } from '@lezer/highlight'; // @codemirror/language's own tag set

const KEYWORDS = new Set(['true', 'false', 'null', 'in']);
/** What the router binds besides DICOM keywords (src/router/condition.ts). */
export const CONTEXT_VARIABLES = new Set(['callingAE', 'calledAE', 'peerAddress', 'tags']);

interface CelState {
  /** After a `.`: the next identifier is a field or method (StudyDescription.matches). */
  member: boolean;
}

const cel: StreamParser<CelState> = {
  name: 'cel',
  startState: () => ({ member: false }),
  token(stream, state) {
    if (stream.eatSpace()) return null;
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    // Strings, with the raw/bytes prefixes; escapes skipped so \" does not end them.
    if (stream.match(/^[rRbB]{0,2}(?=["'])/)) {
      const quote = stream.next()!;
      let escaped = false;
      while (!stream.eol()) {
        const c = stream.next();
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === quote) break;
      }
      state.member = false;
      return 'string';
    }
    if (stream.match(/^0x[0-9a-fA-F]+u?/) || stream.match(/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?u?/)) {
      state.member = false;
      return 'number';
    }
    if (stream.match(/^(==|!=|<=|>=|&&|\|\||[-+*/%<>!?:])/)) {
      state.member = false;
      return 'operator';
    }
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      const wasMember = state.member;
      state.member = false;
      if (wasMember) return 'propertyName';
      if (KEYWORDS.has(w)) return 'keyword';
      if (CONTEXT_VARIABLES.has(w)) return 'variableName.special';
      return 'variableName';
    }
    const c = stream.next();
    state.member = c === '.';
    return c && '()[]{}'.includes(c) ? 'bracket' : 'punctuation';
  },
};

const celStyle = HighlightStyle.define([
  { tag: tags.string, color: '#a11' },
  { tag: tags.number, color: '#164' },
  { tag: tags.operator, color: '#708', fontWeight: '600' },
  { tag: tags.keyword, color: '#00c', fontWeight: '600' },
  { tag: tags.special(tags.variableName), color: '#b35c00', fontWeight: '600' },
  { tag: tags.variableName, color: '#1d4e89' },
  { tag: tags.propertyName, color: '#30a' },
  { tag: tags.comment, color: '#6b7385', fontStyle: 'italic' },
  { tag: tags.bracket, color: '#555' },
]);

/** The CEL language with its highlighting, for an editor's extensions. */
export const celLanguage = [StreamLanguage.define(cel), syntaxHighlighting(celStyle)];
