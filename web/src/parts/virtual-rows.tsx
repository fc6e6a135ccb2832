/**
 * A table that renders only the rows in view (plus a margin) inside its own scrolling box, so a directory
 * of 10,000 entries costs as much to show as one of 50. Rows have one fixed height (CSS keeps every cell
 * on one line), measured from the first row drawn; two spacer rows stand in for the rest.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

const MARGIN_ROWS = 20;
/** Until a row has been measured. */
const GUESSED_ROW_PX = 29;

export interface VirtualTableProps {
  class: string;
  head: ComponentChildren;
  count: number;
  row: (index: number) => JSX.Element;
  /** Columns of the table (the spacer rows span them). */
  columns: number;
}

export function VirtualTable(props: VirtualTableProps) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 1000 });
  const [rowPx, setRowPx] = useState(GUESSED_ROW_PX);
  const frame = useRef(0);

  const measure = () => {
    const el = box.current;
    if (el === null) return;
    setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    const drawn = el.querySelector<HTMLElement>('tbody tr.row');
    if (drawn !== null && drawn.offsetHeight > 0) setRowPx((px) => (px === drawn.offsetHeight ? px : drawn.offsetHeight));
  };
  useLayoutEffect(() => {
    measure();
    const resized = () => measure();
    addEventListener('resize', resized);
    return () => {
      removeEventListener('resize', resized);
      cancelAnimationFrame(frame.current);
    };
  }, []);
  useLayoutEffect(measure, [props.count]);

  const onScroll = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(measure);
  };
  const first = Math.max(0, Math.floor(view.top / rowPx) - MARGIN_ROWS);
  const last = Math.min(props.count, Math.ceil((view.top + view.height) / rowPx) + MARGIN_ROWS);
  const rows: JSX.Element[] = [];
  for (let i = first; i < last; i++) rows.push(props.row(i));
  return (
    <div class="scroller" ref={box} onScroll={onScroll}>
      <table class={`list virtual ${props.class}`}>
        <thead>{props.head}</thead>
        <tbody>
          {first > 0 && <tr class="spacer" aria-hidden="true"><td colSpan={props.columns} style={{ height: `${first * rowPx}px` }} /></tr>}
          {rows}
          {last < props.count && <tr class="spacer" aria-hidden="true"><td colSpan={props.columns} style={{ height: `${(props.count - last) * rowPx}px` }} /></tr>}
        </tbody>
      </table>
    </div>
  );
}
