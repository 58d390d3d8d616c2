// A small in-page dialog asking for one line of text (an arrow's label): the browser's
// prompt() blocks the page, looks like a security warning, and headless or embedded
// browsers may not show it at all. Enter accepts, Escape or Cancel gives null.
import { h } from '../dom.js';

export function askText(title: string, initial = ''): Promise<string | null> {
  const input = h('input', { type: 'text', id: 'text-dialog-input', maxlength: '64', 'aria-label': title, value: initial });
  const cancel = h('button', { type: 'button', id: 'text-dialog-cancel' }, 'Cancel');
  const ok = h('button', { type: 'submit', id: 'text-dialog-ok' }, 'OK');
  const form = h('form', { method: 'dialog' }, h('label', { for: 'text-dialog-input' }, title), input, h('div', { class: 'text-dialog-buttons' }, cancel, ok));
  const dialog = h('dialog', { class: 'text-dialog', id: 'text-dialog' }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer: string | null = null;
    form.addEventListener('submit', () => {
      answer = input.value.trim();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    dialog.showModal();
    input.select();
  });
}
