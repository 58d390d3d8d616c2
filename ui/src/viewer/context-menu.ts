// A small context menu at a page position: a list of actions, closed by choosing one, by
// Escape or by pressing anywhere else. One at a time.
import { h } from '../dom.js';

export interface MenuItem {
  id: string;
  label: string;
  run(): void;
}

let open: { root: HTMLElement; close(): void } | undefined;

export function closeContextMenu(): void {
  open?.close();
}

export function showContextMenu(x: number, y: number, items: MenuItem[]): HTMLElement {
  closeContextMenu();
  const root = h('div', { class: 'context-menu', id: 'context-menu', role: 'menu' });
  const close = () => {
    root.remove();
    document.removeEventListener('pointerdown', outside, true);
    document.removeEventListener('keydown', escape, true);
    if (open?.root === root) open = undefined;
  };
  const outside = (e: Event) => {
    if (!root.contains(e.target as Node)) close();
  };
  const escape = (e: KeyboardEvent) => {
    if (e.key === 'Escape') close();
  };
  for (const item of items) {
    root.append(
      h(
        'button',
        {
          type: 'button',
          role: 'menuitem',
          'data-action': item.id,
          onclick: () => {
            close();
            item.run();
          },
        },
        item.label,
      ),
    );
  }
  // Kept inside the window.
  root.style.left = `${Math.max(0, Math.min(x, window.innerWidth - 180))}px`;
  root.style.top = `${Math.max(0, Math.min(y, window.innerHeight - 40 * items.length))}px`;
  document.body.append(root);
  document.addEventListener('pointerdown', outside, true);
  document.addEventListener('keydown', escape, true);
  open = { root, close };
  return root;
}
