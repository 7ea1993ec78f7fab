// Keeps the reception worklist current without a reload. Every 10 s it asks for the list's
// stamp (a count and the latest change, no patient data); only when that changed does it fetch
// the table's rows, which the server rendered and escaped, and put them in place. A failed
// request leaves the table as it is and marks it stale until the next success.
const table = document.querySelector('table[data-stamp]');
if (table) {
  const body = table.querySelector('tbody');
  const query = table.dataset.query;
  const status = document.getElementById('live');
  const empty = document.getElementById('empty');
  let stamp = table.dataset.stamp;
  const tick = async () => {
    try {
      const answer = await fetch(`/worklist/stamp?${query}`, { credentials: 'same-origin' });
      if (!answer.ok) throw new Error(String(answer.status));
      const next = (await answer.json()).stamp;
      if (next !== stamp) {
        const rows = await fetch(`/worklist/rows?${query}`, { credentials: 'same-origin' });
        if (!rows.ok) throw new Error(String(rows.status));
        const html = await rows.text();
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const fresh = doc.querySelector('tbody');
        if (fresh) {
          body.replaceChildren(...fresh.children);
          stamp = next;
          table.dataset.stamp = next;
          if (empty) empty.hidden = body.children.length > 0;
        }
      }
      if (status) status.classList.remove('stale');
    } catch (_) {
      if (status) status.classList.add('stale');
    }
  };
  setInterval(tick, 10000);
}
