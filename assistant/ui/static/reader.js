const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const reveal = () => {
  let tries = 0;
  const go = () => {
    const panel = element.querySelector('.nd-reader');
    const title = element.querySelector('#nd-article-title');
    if (!panel || !title) return;
    if (panel.getClientRects().length === 0 && tries++ < 40) { setTimeout(go, 50); return; }
    const mark = element.querySelector('#nd-mark');
    const behavior = reduce ? 'auto' : 'smooth';
    title.focus({preventScroll: true});
    if (panel.scrollHeight > panel.clientHeight + 4) {
      let offset = 0;
      if (mark) {
        const head = element.querySelector('.nd-article-head');
        const headHeight = head ? head.offsetHeight : 0;
        const room = panel.clientHeight - headHeight;
        const top = mark.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop;
        offset = top - headHeight - Math.max(16, (room - mark.getBoundingClientRect().height) / 3);
      }
      panel.scrollTo({top: Math.max(0, offset), behavior});
      const r = panel.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) panel.scrollIntoView({block: 'nearest', behavior});
    } else {
      (mark || title).scrollIntoView({block: mark ? 'center' : 'start', behavior});
    }
  };
  setTimeout(go, 30);
};
watch('value', reveal);
element.addEventListener('click', (event) => {
  if (event.target.closest('[data-action="close"]')) trigger('click', {action: 'close'});
});
