// The dashboard: plain DOM, no build step. The access token lives only in this page's memory:
// never in a URL, never in localStorage; a reload asks for the login again.
const LANES = ['planned', 'claimed', 'doing', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled'];
const app = document.getElementById('app');
let session = null;
let timer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function request(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${session.access}` } });
  if (response.status === 401) {
    session = null;
    showLogin('Your session ended; log in again.');
    throw new Error('unauthorized');
  }
  return response;
}

async function api(path) {
  return (await request(path)).json();
}

function showLogin(message = '') {
  clearInterval(timer);
  document.getElementById('who').textContent = '';
  const error = el('p', { class: 'error', role: 'alert' }, message);
  const form = el(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const response = await fetch('/api/v1/token/', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: data.get('username'), password: data.get('password') }),
        });
        if (!response.ok) {
          error.textContent = 'Wrong username or password.';
          return;
        }
        session = { ...(await response.json()), username: data.get('username') };
        document.getElementById('who').textContent = `${session.username} · team ${session.team_slug}`;
        showProjects();
      },
    },
    el('label', {}, 'Username', el('input', { name: 'username', autocomplete: 'username', required: '' })),
    el('label', {}, 'Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: '' })),
    el('button', { type: 'submit' }, 'Log in'),
  );
  app.replaceChildren(el('h2', {}, 'Log in'), form, error);
}

async function showProjects() {
  clearInterval(timer);
  const projects = await api('/api/v1/projects/');
  const list = el('ul', { class: 'projects' });
  for (const project of projects) {
    list.append(el('li', {}, el('a', { href: '#', 'data-project': project.project_uuid, onclick: (event) => (event.preventDefault(), showProject(project)) }, project.project_slug ?? project.project_uuid), el('span', { class: 'muted' }, ` · ${project.event_count} events`)));
  }
  app.replaceChildren(el('h2', {}, 'Projects'), projects.length ? list : el('p', { class: 'muted' }, 'No project has sent events yet.'));
}

async function showProject(project) {
  clearInterval(timer);
  const boardView = el('div', { id: 'boards' });
  const timeline = el('section', { class: 'timeline', 'aria-label': 'timeline' });
  const events = [];
  let after = '';
  const render = (board) => {
    boardView.replaceChildren();
    for (const [feature, wps] of Object.entries(board.features)) {
      const lanes = [...new Set(Object.values(wps).map((wp) => wp.lane))].sort((a, b) => (LANES.indexOf(a) + 99) % 99 - (LANES.indexOf(b) + 99) % 99);
      const grid = el('div', { class: 'board' });
      for (const lane of lanes) {
        const column = el('section', { class: 'lane', 'data-lane': lane, 'aria-label': `${feature} ${lane}` }, el('h3', {}, lane));
        for (const [wpId, wp] of Object.entries(wps).filter(([, wp]) => wp.lane === lane)) {
          const last = events.filter((event) => event.payload.wp_id === wpId && event.payload.feature_slug === feature).at(-1);
          column.append(
            el(
              'button',
              { class: 'card', 'data-wp': wpId, onclick: () => showTimeline(feature, wpId) },
              el('strong', {}, wpId),
              el('small', {}, `${last?.payload.actor ?? ''} · ${new Date(wp.updated_at).toLocaleString()}`),
            ),
          );
        }
        grid.append(column);
      }
      boardView.append(el('h3', {}, feature), grid);
    }
  };
  const showTimeline = (feature, wpId) => {
    const items = events.filter((event) => event.payload.wp_id === wpId && event.payload.feature_slug === feature);
    timeline.replaceChildren(
      el('h3', {}, `${feature} / ${wpId}`),
      el('ol', {}, ...items.map((event) => el('li', {}, `${event.timestamp}: ${event.payload.from_lane ?? '∅'} → ${event.payload.to_lane} by ${event.payload.actor}`))),
    );
  };
  const refresh = async () => {
    for (;;) {
      const response = await request(`/api/v1/projects/${project.project_uuid}/events/?limit=1000${after ? `&after=${after}` : ''}`);
      const batch = await response.json();
      events.push(...batch);
      if (batch.length > 0) after = batch.at(-1).event_id;
      // a page is bounded in bytes too, so a short page does not mean the end
      if (response.headers.get('x-kitty-more') !== 'true') break;
    }
    render(await api(`/api/v1/projects/${project.project_uuid}/board/`));
  };
  app.replaceChildren(el('p', {}, el('a', { href: '#', onclick: (event) => (event.preventDefault(), showProjects()) }, '← projects')), el('h2', {}, project.project_slug ?? project.project_uuid), boardView, timeline);
  await refresh();
  // polling twice a second keeps the board within 1 s of what the server stored
  timer = setInterval(() => refresh().catch(() => clearInterval(timer)), 500);
}

showLogin();
