// The viewport grid: rows x columns of cells, each a Cornerstone stack viewport. A layout
// change keeps the cells that remain (and what they show) and enables or disables the rest.
import { Enums, type RenderingEngine } from '@cornerstonejs/core';
import { MAX_COLS, MAX_ROWS } from './toolbar-entries.js';
import { ViewportCell } from './viewport-cell.js';

export interface GridListener {
  added(cell: ViewportCell): void;
  removing(cell: ViewportCell): void;
}

export class ViewportGrid {
  readonly cells: ViewportCell[] = [];
  rows = 0;
  cols = 0;
  private nextId = 0;

  private resizePending = false;

  constructor(
    readonly root: HTMLElement,
    private readonly engine: RenderingEngine,
    private readonly listener: GridListener,
  ) {
    // The grid changes size without the window doing so (the toolbar wrapping to another
    // row as its status or presets change, the series panel): each canvas must follow its
    // element or the image is drawn stretched. One resize per frame, however many changes.
    new ResizeObserver(() => {
      if (this.resizePending) return;
      this.resizePending = true;
      requestAnimationFrame(() => {
        this.resizePending = false;
        if (this.cells.length) this.engine.resize(true, true);
      });
    }).observe(root);
  }

  setLayout(rows: number, cols: number): void {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows > MAX_ROWS || cols > MAX_COLS) {
      throw new RangeError(`a layout is 1-${MAX_ROWS} rows by 1-${MAX_COLS} columns, not ${rows}x${cols}`);
    }
    this.rows = rows;
    this.cols = cols;
    this.root.style.gridTemplateRows = `repeat(${rows}, minmax(0, 1fr))`;
    this.root.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
    this.root.dataset.layout = `${rows}x${cols}`;
    const n = rows * cols;
    while (this.cells.length > n) {
      const cell = this.cells.pop()!;
      this.listener.removing(cell);
      this.engine.disableElement(cell.viewportId);
      cell.root.remove();
    }
    while (this.cells.length < n) {
      const cell = new ViewportCell(`vp-${this.nextId++}`, this.cells.length, this.engine);
      this.root.append(cell.root);
      this.engine.enableElement({
        viewportId: cell.viewportId,
        type: Enums.ViewportType.STACK,
        element: cell.element,
        defaultOptions: { background: [0, 0, 0] },
      });
      this.cells.push(cell);
      this.listener.added(cell);
    }
    // The grid changed size: let Cornerstone re-fit every canvas.
    this.engine.resize(true, true);
  }
}
