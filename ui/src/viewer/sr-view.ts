// A structured report as text: its kind, title and flags, then the content tree, one line
// per item (relationship, concept name with its code, value), children indented.
import { h } from '../dom.js';
import type { SrDocument, SrNode } from './sr-parse.js';

function itemLine(n: SrNode): HTMLElement {
  const line = h(
    'div',
    { class: 'sr-line' },
    n.relationship ? h('span', { class: 'sr-rel' }, n.relationship) : null,
    h('span', { class: 'sr-type' }, n.valueType),
    h('span', { class: 'sr-concept' }, n.concept || '(no concept name)'),
    n.code ? h('span', { class: 'sr-code' }, n.code) : null,
    n.value ? h('span', { class: 'sr-value' }, n.value) : null,
  );
  const li = h('li', { class: 'sr-item', 'data-value-type': n.valueType }, line);
  if (n.children.length) li.append(h('ul', { class: 'sr-children' }, ...n.children.map(itemLine)));
  return li;
}

export function renderSrDocument(doc: SrDocument, sopInstanceUid: string): HTMLElement {
  return h(
    'section',
    { class: 'sr-document', 'data-sop': sopInstanceUid },
    h('h4', { class: 'sr-title' }, doc.title || '(untitled report)'),
    h('div', { class: 'muted sr-flags' }, [doc.kind, doc.completion, doc.verification].filter(Boolean).join(' - ')),
    h('ul', { class: 'sr-tree' }, ...doc.root.children.map(itemLine)),
  );
}
