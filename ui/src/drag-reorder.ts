// Reordering a list by drag and drop: an item's handle starts the drag, the item under the
// pointer shows where it would land (before or after it, by the pointer's half).
export type Side = 'before' | 'after';

export class DragReorder<T> {
  private dragging: T | undefined;

  constructor(private readonly drop: (moved: T, target: T, side: Side) => void) {}

  /** Wires `item`'s element; `canDrag` is asked at each drag (an unsaved item cannot be moved). */
  attach(item: T, handle: HTMLElement, element: HTMLElement, canDrag: () => boolean, dragData: () => string): void {
    handle.addEventListener('dragstart', (e) => {
      if (!canDrag()) return e.preventDefault();
      this.dragging = item;
      e.dataTransfer?.setData('text/plain', dragData());
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      element.classList.add('dragging');
    });
    handle.addEventListener('dragend', () => {
      this.dragging = undefined;
      element.classList.remove('dragging');
    });
    const side = (e: DragEvent): Side => {
      const r = element.getBoundingClientRect();
      return e.clientY < r.top + r.height / 2 ? 'before' : 'after';
    };
    element.addEventListener('dragover', (e) => {
      if (this.dragging === undefined || this.dragging === item || !canDrag()) return;
      e.preventDefault();
      element.classList.toggle('drop-before', side(e) === 'before');
      element.classList.toggle('drop-after', side(e) === 'after');
    });
    element.addEventListener('dragleave', () => element.classList.remove('drop-before', 'drop-after'));
    element.addEventListener('drop', (e) => {
      e.preventDefault();
      element.classList.remove('drop-before', 'drop-after');
      const moved = this.dragging;
      this.dragging = undefined;
      if (moved !== undefined && moved !== item && canDrag()) this.drop(moved, item, side(e));
    });
  }
}
