const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
let seen = element.querySelectorAll('article.nd-turn').length;
watch('value', () => {
  const turns = element.querySelectorAll('article.nd-turn');
  if (turns.length > seen) turns[turns.length - 1].scrollIntoView({block: 'start', behavior: reduce ? 'auto' : 'smooth'});
  seen = turns.length;
});
element.addEventListener('click', (event) => {
  const el = event.target.closest('[data-article]');
  if (!el || !element.contains(el)) return;
  element.querySelectorAll('.nd-card.is-open').forEach((c) => c.classList.remove('is-open'));
  if (el.classList.contains('nd-card')) el.classList.add('is-open');
  trigger('click', {article: el.dataset.article, start: Number(el.dataset.start), end: Number(el.dataset.end),
                    n: Number(el.dataset.n), turn: Number(el.dataset.turn || 0)});
});
