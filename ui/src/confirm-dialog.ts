// In-page confirmation and result messages, instead of the browser's confirm() (which
// blocks the page, cannot be styled, and looks like the browser's, not the archive's):
// a modal <dialog> that resolves true or false, and a status line (toast) that says what
// happened afterwards and stays until closed or replaced.
import { h } from './dom.js';

/** Asks `question`; resolves true when `confirmLabel` is clicked, false on Cancel or Escape. */
export function confirmDialog(question: string, confirmLabel = 'Delete'): Promise<boolean> {
  document.getElementById('confirm-dialog')?.remove();
  const ok = h('button', { type: 'button', class: 'danger', id: 'confirm-ok' }, confirmLabel);
  const cancel = h('button', { type: 'button', id: 'confirm-cancel' }, 'Cancel');
  const dialog = h(
    'dialog',
    { id: 'confirm-dialog', 'aria-labelledby': 'confirm-question' },
    h('p', { id: 'confirm-question' }, question),
    h('div', { class: 'dialog-buttons' }, cancel, ' ', ok),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    // Escape closes a modal dialog by itself ('cancel' event): that is a no.
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}

/** Shows `message` in the page's status line (success or failure) until closed or replaced. */
export function toast(message: string, ok = true): void {
  let box = document.getElementById('toast');
  if (!box) {
    box = h('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const close = h('button', { type: 'button', class: 'toast-close', title: 'close', 'aria-label': 'close' }, '×');
  close.addEventListener('click', () => box.replaceChildren());
  box.className = ok ? 'ok' : 'fail';
  box.replaceChildren(h('span', { class: 'toast-text' }, message), ' ', close);
}
