/* Moving a ticket to another agent from the console (supervisors and admins; the API is
 * POST /api/tickets/{id}/reassign): who sees the control, which agents are offered, their labels and the
 * note after a move. Pure (no DOM): unit-tested. Agents are rows of GET /api/agents. */

const REASSIGN_ROLES = ["supervisor", "admin"];
// online first, then away, then offline
const PRESENCE_ORDER = { online: 0, away: 1, offline: 2 };

/** True when `role` may move `t` (a waiting or claimed ticket). */
export function mayReassign(role, t) {
  return REASSIGN_ROLES.includes(role) && !!t && (t.status === "waiting" || t.status === "claimed");
}

/** True when the agent holds as many tickets as their capacity allows (capacity 0: no limit). */
export function atCapacity(agent) {
  const capacity = Number(agent.capacity) || 0;
  return capacity > 0 && (Number(agent.load) || 0) >= capacity;
}

/** True when the agent holds `t` already. */
function holds(agent, t) {
  return t.status === "claimed" && !!t.claimed_by && agent.name === t.claimed_by;
}

/** "An · Trực tuyến · 1/3 phiếu", with why the agent cannot take the ticket. */
export function agentLabel(agent, t) {
  const load = Number(agent.load) || 0;
  const capacity = Number(agent.capacity) || 0;
  const parts = [agent.name, agent.presence_label || agent.presence || "–"];
  parts.push(capacity > 0 ? load + "/" + capacity + " phiếu" : load + " phiếu (không giới hạn)");
  if (t && holds(agent, t)) parts.push("đang xử lý phiếu này");
  else if (atCapacity(agent)) parts.push("đã đủ phiếu");
  return parts.join(" · ");
}

/** The choices for `t`: [{id, label, disabled}], the agents who can take it first (by presence, then
 * name); the one holding it and those at capacity are disabled. */
export function reassignChoices(agents, t) {
  return (agents || [])
    .filter((agent) => agent && agent.id && agent.name)
    .map((agent) => ({ agent, disabled: holds(agent, t) || atCapacity(agent) }))
    .sort(
      (a, b) =>
        a.disabled - b.disabled ||
        (PRESENCE_ORDER[a.agent.presence] ?? 3) - (PRESENCE_ORDER[b.agent.presence] ?? 3) ||
        a.agent.name.localeCompare(b.agent.name, "vi"),
    )
    .map(({ agent, disabled }) => ({ id: agent.id, label: agentLabel(agent, t), disabled }));
}

/** The note after a move, from the API's answer (the ticket with `previous_agent`). */
export function reassignedNote(ticket) {
  const to = ticket.claimed_by || "–";
  return ticket.previous_agent
    ? "Đã chuyển phiếu từ " + ticket.previous_agent + " sang " + to + "."
    : "Đã giao phiếu cho " + to + ".";
}
