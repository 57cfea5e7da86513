// The page of `arabic-topics serve`: one article in, predict's result out (POST predict, as any client).
// User text only ever goes into the page through textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let displayNames = {};

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

// An effect on a probability: near 0 or 1 a sentence moves it by less than a thousandth, so four decimals.
const signed = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(4)}`;

// "سياسة · politics": the model's display name where it has one, and the label the API returns.
function labelName(label) {
  const shown = displayNames[label];
  const name = element("bdi");
  if (shown && shown !== label) {
    name.append(element("span", { lang: "ar", dir: "rtl" }, shown), ` · ${label}`);
  } else {
    name.textContent = label;
  }
  return name;
}

async function loadModel() {
  try {
    const health = await (await fetch("health")).json();
    displayNames = health.display_names || {};
    $("model").textContent = `model ${health.model} (${health.backend}): ${health.labels.join(", ")}`;
  } catch (err) {
    $("model").textContent = "the server did not answer /health";
  }
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function renderBars(result) {
  const bars = $("bars");
  bars.replaceChildren();
  const ranked = Object.entries(result.scores).sort((a, b) => b[1] - a[1]);
  for (const [label, score] of ranked) {
    const chosen = result.labels.includes(label);
    const row = element("div", { class: chosen ? "bar-row chosen" : "bar-row", role: "listitem",
                                 "data-label": label });
    const name = element("span", { class: "name" });
    name.append(labelName(label));
    if (chosen) name.append(" ✓");
    const track = element("div", { class: "track" });
    const fill = element("div", { class: "fill" });
    fill.style.width = `${(100 * score).toFixed(1)}%`;
    track.append(fill);
    row.append(name, track, element("span", { class: "score" }, score.toFixed(3)));
    bars.append(row);
  }
}

// The article with the sentences of one label marked (explain gives their character offsets in the text).
function renderArticle(text, sentences) {
  const article = $("article");
  article.replaceChildren();
  let at = 0;
  for (const s of [...sentences].sort((a, b) => a.start - b.start)) {
    if (s.start < at) continue;  // sentences never overlap; guard anyway
    article.append(text.slice(at, s.start));
    article.append(element("mark", { title: `effect ${signed(s.effect)}` },
                           text.slice(s.start, s.end)));
    at = s.end;
  }
  article.append(text.slice(at));
}

function selectLabel(result, text, label) {
  for (const button of $("explained-labels").children) {
    button.setAttribute("aria-selected", String(button.dataset.label === label));
  }
  const sentences = result.explanations[label];
  const list = $("sentences");
  list.replaceChildren();
  for (const s of sentences) {
    const item = element("li");
    item.append(element("span", { class: "effect" }, signed(s.effect)),
                element("bdi", { lang: "ar", dir: "rtl" }, s.sentence));
    list.append(item);
  }
  renderArticle(text, sentences);
}

function renderWhy(result, text) {
  const view = $("why-view");
  if (!result.explanations) {
    view.hidden = true;
    return;
  }
  const tabs = $("explained-labels");
  tabs.replaceChildren();
  for (const label of Object.keys(result.explanations)) {
    const button = element("button", { type: "button", role: "tab", "data-label": label });
    button.append(labelName(label));
    button.addEventListener("click", () => selectLabel(result, text, label));
    tabs.append(button);
  }
  $("note").textContent = result.note;
  view.hidden = false;
  selectLabel(result, text, Object.keys(result.explanations)[0]);
}

function render(result, text) {
  $("topic").replaceChildren(result.label ? labelName(result.label) : "none passes its threshold");
  $("topic-score").textContent = result.score.toFixed(3);
  $("warnings").replaceChildren(...result.warnings.map((w) => element("li", {}, w)));
  renderBars(result);
  renderWhy(result, text);
  $("result").hidden = false;
}

async function classify(event) {
  event.preventDefault();
  const text = $("text").value;
  const title = $("title").value.trim();
  $("error").hidden = true;
  $("classify").disabled = true;
  $("classify").textContent = "Classifying…";
  try {
    const response = await fetch("predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ texts: [text], titles: [title || null], explain: $("why").checked }),
    });
    const body = await response.json().catch(() => ({}));  // a proxy in front may answer HTML
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    const result = body.predictions[0];
    if (result.error) throw new Error(result.error);
    render(result, text);
  } catch (err) {
    $("result").hidden = true;
    showError(err.message);
  } finally {
    $("classify").disabled = false;
    $("classify").textContent = "Classify";
  }
}

$("form").addEventListener("submit", classify);
loadModel();
