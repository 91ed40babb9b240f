// Allot dashboard: charts, sortable tables and live updates over server-rendered pages.
// Amounts arrive as decimal text; they become numbers here only to be plotted, and every label
// and tooltip shows the text the server formatted.
(function () {
  'use strict';
  var charts = [];

  function cssColor(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }
  function lineColor(index) {
    return cssColor('--line-' + (index % 10), '#3356d6');
  }
  // Only midnights are labelled: a bound that falls mid-day would repeat its day's label.
  function dayLabel(ms) {
    if (ms % 86400000 !== 0) return '';
    return new Date(ms).toLocaleDateString('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
  }
  // Ticks a whole number of days apart, about eight of them, so no day is labelled twice.
  function dayStep(span) {
    var day = 24 * 60 * 60 * 1000;
    return Math.max(1, Math.ceil(span / day / 8)) * day;
  }
  function points(series) {
    return series.points.map(function (p) { return { x: p.x, y: Number(p.y), label: p.label }; });
  }

  function timeChart(spec, stepped) {
    return {
      type: 'line',
      data: {
        datasets: spec.series.map(function (series, index) {
          var color = series.color ? cssColor(series.color, lineColor(index)) : lineColor(index);
          return {
            label: series.name,
            data: points(series),
            borderColor: color,
            backgroundColor: color,
            borderDash: series.dashed ? [6, 4] : [],
            stepped: stepped ? 'before' : false,
            fill: false,
            pointRadius: series.markers ? 4 : 0,
            pointHoverRadius: 5,
            showLine: !series.markers,
            tension: 0,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: { type: 'linear', min: spec.from, max: spec.to, ticks: { callback: dayLabel, stepSize: dayStep(spec.to - spec.from), autoSkip: false } },
          y: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } },
        },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? new Date(items[0].raw.x).toUTCString().replace(':00 GMT', ' UTC') : ''; },
              label: function (item) { return item.dataset.label + ': ' + item.raw.label; },
            },
          },
        },
      },
    };
  }

  function barChart(spec) {
    return {
      type: 'bar',
      data: {
        labels: spec.labels,
        datasets: [{ label: spec.name, data: spec.values.map(Number), backgroundColor: spec.labels.map(function (_, i) { return lineColor(i); }) }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } }, y: { ticks: { autoSkip: false } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return spec.formatted[item.dataIndex]; } } },
        },
      },
    };
  }

  function drawCharts(root) {
    if (typeof Chart === 'undefined') return;
    root.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute('data-chart'));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var config = spec.kind === 'bars' ? barChart(spec) : timeChart(spec, spec.kind === 'steps');
      charts.push(new Chart(canvas, config));
    });
  }

  // Decimal text compared without turning it into a float: sign, integer digits, then digit by digit.
  function compareDecimal(a, b) {
    var negA = a.charAt(0) === '-', negB = b.charAt(0) === '-';
    if (negA !== negB) return negA ? -1 : 1;
    var sign = negA ? -1 : 1;
    var pa = a.replace('-', '').split('.'), pb = b.replace('-', '').split('.');
    var ia = pa[0].replace(/^0+(?=\d)/, ''), ib = pb[0].replace(/^0+(?=\d)/, '');
    if (ia.length !== ib.length) return sign * (ia.length - ib.length);
    var fa = pa[1] || '', fb = pb[1] || '';
    var width = Math.max(fa.length, fb.length);
    var da = ia + fa.padEnd(width, '0'), db = ib + fb.padEnd(width, '0');
    return sign * (da < db ? -1 : da > db ? 1 : 0);
  }

  function makeSortable(root) {
    root.querySelectorAll('table[data-sortable]').forEach(function (table) {
      var headers = table.querySelectorAll('thead th');
      headers.forEach(function (th, column) {
        if (th.querySelector('button')) return;
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = th.textContent;
        th.textContent = '';
        th.appendChild(button);
        button.addEventListener('click', function () {
          var descending = th.getAttribute('aria-sort') !== 'descending';
          headers.forEach(function (other) { other.removeAttribute('aria-sort'); });
          th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
          var numeric = th.hasAttribute('data-numeric');
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (r1, r2) {
            var c1 = r1.cells[column], c2 = r2.cells[column];
            var v1 = c1.getAttribute('data-sort') || c1.textContent.trim();
            var v2 = c2.getAttribute('data-sort') || c2.textContent.trim();
            var order = numeric ? compareDecimal(v1, v2) : v1.localeCompare(v2);
            return descending ? -order : order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  function enhance(root) {
    drawCharts(root);
    makeSortable(root);
  }

  // Live view: the server sends the page's main content again whenever it changed.
  function followLive() {
    var url = document.body.getAttribute('data-live');
    if (!url || typeof EventSource === 'undefined') return;
    var source = new EventSource(url);
    source.addEventListener('update', function (event) {
      var main = document.getElementById('main');
      charts.forEach(function (chart) { chart.destroy(); });
      charts = [];
      main.innerHTML = JSON.parse(event.data).html;
      enhance(main);
    });
    source.addEventListener('expired', function () {
      source.close();
      var status = document.querySelector('.live');
      if (status) {
        status.classList.add('stale');
        status.textContent = 'This view has expired: reload it from your application to keep it live.';
      }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    enhance(document);
    followLive();
  });
})();
