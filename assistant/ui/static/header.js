element.addEventListener('click', (event) => {
  if (event.target.closest('.nd-theme')) document.body.classList.toggle('dark');
});
