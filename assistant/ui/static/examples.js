element.addEventListener('click', (event) => {
  const el = event.target.closest('[data-q]');
  if (el && element.contains(el)) trigger('click', {question: el.dataset.q});
});
