// On a phone, every table of the app becomes a stack of cards: each cell shows its column's
// heading beside it. The headings are copied onto the cells (data-label) here, for every
// `table.table`, including tables that appear or change later, so no view has to repeat them.

function label(table: HTMLTableElement): void {
  const heads = [...table.querySelectorAll(':scope > thead > tr > th')].map((th) => th.textContent?.trim() ?? '');
  if (!heads.length) return;
  for (const row of table.querySelectorAll(':scope > tbody > tr')) {
    [...row.children].forEach((cell, i) => {
      const text = (cell as HTMLTableCellElement).colSpan > 1 ? '' : (heads[i] ?? '');
      if (cell.getAttribute('data-label') !== text) cell.setAttribute('data-label', text);
    });
  }
}

export function stackTablesOnPhones(root: HTMLElement): void {
  const run = () => root.querySelectorAll<HTMLTableElement>('table.table').forEach(label);
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      run();
    });
  }).observe(root, { childList: true, subtree: true });
  run();
}
