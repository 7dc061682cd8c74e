// The dashboard: plain DOM, no build step. The access token lives only in this page's memory:
// never in a URL, never in localStorage; a reload asks for the login again, then returns to the
// project the address names (#/projects/<uuid>: an id, never a secret).
import { renderFeatureCharts } from './charts.js';
import { boardColumns } from './flow.js';

const LANES = ['planned', 'claimed', 'doing', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled'];
const app = document.getElementById('app');
const banner = document.getElementById('banner');
let session = null;
// the open project's live stream: aborted when the page shows something else
let live = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function request(path, signal) {
  let response = await fetch(path, { headers: { authorization: `Bearer ${session.access}` }, signal });
  // an access token lives minutes: refreshed once, the request goes again; the session ends only
  // when the refresh is refused too
  if (response.status === 401 && (await refreshed())) response = await fetch(path, { headers: { authorization: `Bearer ${session.access}` }, signal });
  if (response.status === 401) {
    session = null;
    showLogin('Your session ended; log in again.');
    throw new Error('unauthorized');
  }
  return response;
}

/** New tokens for the session (the refresh token rotates); false when the server refuses. Concurrent callers share one refresh. */
let refreshing = null;
function refreshed() {
  const current = session;
  refreshing ??= fetch('/api/v1/token/refresh/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh: current.refresh }),
  })
    .then(async (response) => {
      // logged out, or in again, meanwhile: whatever session there is now decides
      if (session !== current) return session !== null;
      if (!response.ok) return false;
      session = { ...current, ...(await response.json()) };
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function api(path) {
  return (await request(path)).json();
}

function stopLive() {
  live?.abort();
  live = null;
  showBanner(null);
}

/** One way to write a time everywhere on the page: UTC, to the minute, as the charts' axes do. */
function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A visible line while the page is not receiving live updates (null: hidden). */
function showBanner(text) {
  banner.textContent = text ?? '';
  banner.hidden = text === null;
}

async function logout() {
  const refresh = session?.refresh;
  session = null;
  stopLive();
  history.replaceState(null, '', '#/');
  // the server forgets the session too; the page forgets it whatever the answer
  if (refresh)
    await fetch('/api/v1/token/revoke/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }) }).catch(
      () => undefined,
    );
  showLogin('You are logged out.');
}

function projectInAddress() {
  return /^#\/projects\/([\w-]+)$/.exec(location.hash)?.[1] ?? null;
}

/**
 * Calls `onChange` whenever the server says the project changed: a Server-Sent Events stream read
 * with fetch, so the token goes in a header. When the stream ends (the server restarted, or the
 * connection dropped), it is opened again after a pause, with one refresh for what was missed.
 */
async function follow(project, onChange, controller) {
  for (let pause = 500; !controller.signal.aborted; pause = Math.min(pause * 2, 10_000)) {
    try {
      const response = await request(`/api/v1/projects/${project.project_uuid}/live/`, controller.signal);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      pause = 500;
      showBanner(null);
      for (let text = ''; ; ) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        const messages = text.split('\n\n');
        text = messages.pop();
        if (messages.some((message) => message.startsWith('event: changed'))) onChange();
      }
    } catch (error) {
      if (controller.signal.aborted || error.message === 'unauthorized') return;
    }
    if (controller.signal.aborted) return;
    showBanner('Live updates stopped: reconnecting… (the board may be out of date until then)');
    await new Promise((resolve) => setTimeout(resolve, pause));
    onChange();
  }
}

function showLogin(message = '') {
  stopLive();
  document.getElementById('who').replaceChildren();
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
        document
          .getElementById('who')
          .replaceChildren(`${session.username} · team ${session.team_slug} `, el('button', { type: 'button', onclick: logout }, 'Log out'));
        showProjects(projectInAddress());
      },
    },
    el('label', {}, 'Username', el('input', { name: 'username', autocomplete: 'username', required: '' })),
    el('label', {}, 'Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: '' })),
    el('button', { type: 'submit' }, 'Log in'),
  );
  app.replaceChildren(el('h2', {}, 'Log in'), form, error);
}

async function showProjects(openUuid = null) {
  stopLive();
  const projects = await api('/api/v1/projects/');
  const wanted = openUuid && projects.find((project) => project.project_uuid === openUuid);
  if (wanted) return showProject(wanted);
  history.replaceState(null, '', '#/');
  const list = el('ul', { class: 'projects' });
  for (const project of projects) {
    list.append(
      el(
        'li',
        {},
        el(
          'a',
          {
            href: `#/projects/${project.project_uuid}`,
            'data-project': project.project_uuid,
            onclick: (event) => {
              event.preventDefault();
              showProject(project);
            },
          },
          project.project_slug ?? project.project_uuid,
        ),
        el('span', { class: 'muted' }, ` · ${project.event_count} events`),
      ),
    );
  }
  app.replaceChildren(el('h2', {}, 'Projects'), projects.length ? list : el('p', { class: 'muted' }, 'No project has sent events yet.'));
}

/** Board order: the vocabulary's order, unknown lanes last. */
function laneOrder(a, b) {
  return ((LANES.indexOf(a) + 99) % 99) - ((LANES.indexOf(b) + 99) % 99);
}

function eventsOf(events, feature, wpId) {
  return events.filter((event) => event.payload.wp_id === wpId && event.payload.feature_slug === feature);
}

function card(events, feature, wpId, wp, onOpen) {
  const own = eventsOf(events, feature, wpId);
  const title = own.findLast((event) => typeof event.payload.title === 'string')?.payload.title;
  return el(
    'button',
    { class: 'card', 'data-wp': wpId, onclick: () => onOpen(feature, wpId) },
    el('strong', {}, wpId),
    ...(title ? [el('span', { class: 'title' }, title)] : []),
    el('small', {}, `${own.at(-1)?.payload.actor ?? ''} · ${formatTime(wp.updated_at)}`),
  );
}

/** One feature: its lanes as columns of cards, then its charts. */
function featureView(events, feature, wps, onOpen) {
  const grid = el('div', { class: 'board' });
  const columnOf = boardColumns(Object.values(wps).map((wp) => wp.lane));
  for (const lane of [...new Set(Object.values(wps).map((wp) => columnOf(wp.lane)))].sort(laneOrder)) {
    const column = el('section', { class: 'lane', 'data-lane': lane, 'aria-label': `${feature} ${lane}` }, el('h3', {}, lane));
    for (const [wpId, wp] of Object.entries(wps).filter(([, wp]) => columnOf(wp.lane) === lane)) column.append(card(events, feature, wpId, wp, onOpen));
    grid.append(column);
  }
  const charts = el('div', { class: 'feature-charts' });
  renderFeatureCharts(charts, events, feature, { now: Date.now() });
  return [el('h3', {}, feature), grid, charts];
}

function timelineOf(events, feature, wpId) {
  const line = (event) => `${formatTime(event.timestamp)}: ${event.payload.from_lane ?? '∅'} → ${event.payload.to_lane} by ${event.payload.actor}`;
  return [el('h3', {}, `${feature} / ${wpId}`), el('ol', {}, ...eventsOf(events, feature, wpId).map((event) => el('li', {}, line(event))))];
}

/** Reads the project's events past the last one read, every page of them. */
async function readNewEvents(project, events) {
  for (;;) {
    const after = events.at(-1)?.event_id;
    const response = await request(`/api/v1/projects/${project.project_uuid}/events/?limit=1000${after ? `&after=${after}` : ''}`);
    const batch = await response.json();
    events.push(...batch);
    // a page is bounded in bytes too, so a short page does not mean the end
    if (response.headers.get('x-kitty-more') !== 'true') return;
  }
}

/** Runs `task` on each call; calls that come while it runs make one more run after it, never several. */
function coalesced(task) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = task()
      .catch(() => undefined)
      .finally(() => {
        running = null;
        if (!again) return;
        again = false;
        run();
      });
  };
  return run;
}

function backLink() {
  const onclick = (event) => {
    event.preventDefault();
    showProjects();
  };
  return el('p', {}, el('a', { href: '#/', onclick }, '← projects'));
}

async function showProject(project) {
  stopLive();
  history.replaceState(null, '', `#/projects/${project.project_uuid}`);
  const boardView = el('div', { id: 'boards' });
  const timeline = el('section', { class: 'timeline', 'aria-label': 'timeline' });
  const events = [];
  const showTimeline = (feature, wpId) => timeline.replaceChildren(...timelineOf(events, feature, wpId));
  const refresh = async () => {
    await readNewEvents(project, events);
    const board = await api(`/api/v1/projects/${project.project_uuid}/board/`);
    boardView.replaceChildren(...Object.entries(board.features).flatMap(([feature, wps]) => featureView(events, feature, wps, showTimeline)));
  };
  app.replaceChildren(backLink(), el('h2', {}, project.project_slug ?? project.project_uuid), boardView, timeline);
  const changed = coalesced(refresh);
  const controller = new AbortController();
  live = controller;
  void follow(project, changed, controller);
  changed();
}

showLogin();
