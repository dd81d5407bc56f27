// Starts the sidebar collapsed on a narrow window: once per Streamlit session, never
// against the user. Streamlit keeps a user's own open/close in localStorage under
// "stSidebarCollapsed-<app>"; where one is stored, it wins and nothing happens here.
const CHOICE = "stSidebarCollapsed-";
const DONE = "vmap-narrow-sidebar-session"; // sessionStorage: the session already handled
const TRIES = 50, EVERY_MS = 100; // the sidebar is drawn with the first page's elements

function storedChoices() {
  try {
    return Object.keys(window.localStorage).filter((k) => k.startsWith(CHOICE));
  } catch (err) {
    return []; // storage blocked: no remembered choice
  }
}

export default function ({ data }) {
  const { below, session } = data || {};
  if (!session || window.sessionStorage.getItem(DONE) === session) return; // a rerun
  window.sessionStorage.setItem(DONE, session);
  if (!(window.innerWidth < below) || storedChoices().length) return;
  const before = new Set(storedChoices());
  let tries = 0;
  const collapse = () => {
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (sidebar && sidebar.getAttribute("data-collapsed") === "true") return; // already closed
    if (!sidebar || !button) {
      if (++tries < TRIES) window.setTimeout(collapse, EVERY_MS);
      return;
    }
    button.click();
    // Streamlit stores that click as the user's choice. It was ours: forget it, so that a
    // later visit in a wide window starts with the sidebar open again.
    window.setTimeout(() => {
      try {
        storedChoices().filter((k) => !before.has(k)).forEach((k) => window.localStorage.removeItem(k));
      } catch (err) { /* storage blocked: nothing was stored */ }
    }, 0);
  };
  collapse();
}
