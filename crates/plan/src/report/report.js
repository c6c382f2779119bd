// Roster paging, filtering and day zoom. Without this script every roster row is shown.
// A link ending in #roster:TEXT opens the roster filtered by TEXT.
(function () {
  'use strict';
  var gantt = document.getElementById('gantt');
  if (!gantt) { return; }
  var rows = Array.prototype.slice.call(gantt.querySelectorAll('.gr'));
  var perPage = parseInt(gantt.getAttribute('data-page-size'), 10) || 50;
  var filter = document.getElementById('gantt-filter');
  var view = document.getElementById('gantt-view');
  var prev = document.getElementById('gantt-prev');
  var next = document.getElementById('gantt-next');
  var info = document.getElementById('gantt-info');
  var empty = document.getElementById('gantt-empty');
  var axes = Array.prototype.slice.call(gantt.querySelectorAll('.gantt-axis > div'));
  var matching = rows;
  var page = 0;

  function draw() {
    var pages = Math.max(1, Math.ceil(matching.length / perPage));
    page = Math.min(Math.max(page, 0), pages - 1);
    var first = page * perPage;
    var last = Math.min(first + perPage, matching.length);
    rows.forEach(function (row) { row.hidden = true; });
    matching.slice(first, last).forEach(function (row) { row.hidden = false; });
    info.textContent = 'Page ' + (page + 1) + ' of ' + pages + ' · agents ' +
      (matching.length ? (first + 1) + '–' + last : '0') + ' of ' + matching.length +
      (matching.length < rows.length ? ' (filtered from ' + rows.length + ')' : '');
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    empty.hidden = matching.length > 0;
  }

  function applyFilter() {
    // Every word must appear in the row's agent, group or skills.
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    matching = rows.filter(function (row) {
      var text = row.getAttribute('data-k');
      return words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    page = 0;
    draw();
  }

  function applyView() {
    var box = view.value.split(' ');
    gantt.querySelectorAll('svg.gt').forEach(function (svg) {
      svg.setAttribute('viewBox', box[0] + ' 0 ' + box[1] + ' ' + svg.viewBox.baseVal.height);
    });
    axes.forEach(function (axis, i) { axis.hidden = i !== view.selectedIndex; });
  }

  filter.addEventListener('input', applyFilter);
  view.addEventListener('change', applyView);
  prev.addEventListener('click', function () { page -= 1; draw(); });
  next.addEventListener('click', function () { page += 1; draw(); });
  gantt.querySelector('.gantt-controls').hidden = false;

  var hash = '';
  try { hash = decodeURIComponent(window.location.hash || ''); } catch (e) { hash = ''; }
  if (hash.indexOf('#roster:') === 0) {
    filter.value = hash.slice('#roster:'.length);
    applyFilter();
    gantt.scrollIntoView();
  } else {
    draw();
  }
})();
