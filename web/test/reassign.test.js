import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../src/shared/api.js";
import { errorMessage } from "../src/console/logic.js";
import { agentLabel, atCapacity, mayReassign, reassignChoices, reassignedNote } from "../src/console/reassign.js";

const agent = (id, name, presence, load, capacity) => ({
  id,
  name,
  presence,
  presence_label: { online: "Trực tuyến", away: "Tạm vắng", offline: "Ngoại tuyến" }[presence],
  load,
  capacity,
});
const AN = agent("u_an", "An", "online", 1, 2);
const BINH = agent("u_binh", "Bình", "away", 0, 3);
const CUONG = agent("u_cuong", "Cường", "online", 2, 2);
const DUNG = agent("u_dung", "Dũng", "offline", 4, 0);
const CLAIMED = { id: "KN-20261205-1", status: "claimed", claimed_by: "An" };

test("only supervisors and admins move a waiting or claimed ticket", () => {
  assert.equal(mayReassign("supervisor", CLAIMED), true);
  assert.equal(mayReassign("admin", { status: "waiting" }), true);
  assert.equal(mayReassign("agent", CLAIMED), false);
  assert.equal(mayReassign("content", CLAIMED), false);
  assert.equal(mayReassign("supervisor", { status: "resolved" }), false);
  assert.equal(mayReassign("supervisor", { status: "closed" }), false);
  assert.equal(mayReassign("supervisor", null), false);
});

test("at capacity: load reached the capacity; 0 is no limit", () => {
  assert.equal(atCapacity(AN), false);
  assert.equal(atCapacity(CUONG), true);
  assert.equal(atCapacity(DUNG), false);
  assert.equal(atCapacity({ load: 3, capacity: 2 }), true);
});

test("labels: name, presence, load out of capacity, why not", () => {
  assert.equal(agentLabel(BINH, CLAIMED), "Bình · Tạm vắng · 0/3 phiếu");
  assert.equal(agentLabel(AN, CLAIMED), "An · Trực tuyến · 1/2 phiếu · đang xử lý phiếu này");
  assert.equal(agentLabel(CUONG, CLAIMED), "Cường · Trực tuyến · 2/2 phiếu · đã đủ phiếu");
  assert.equal(agentLabel(DUNG, CLAIMED), "Dũng · Ngoại tuyến · 4 phiếu (không giới hạn)");
  assert.equal(agentLabel({ name: "Giang", presence: "online", load: 0, capacity: 1 }), "Giang · online · 0/1 phiếu");
});

test("choices: who can take it first (online, away, offline), the holder and the full ones disabled", () => {
  const choices = reassignChoices([CUONG, DUNG, BINH, AN], CLAIMED);
  assert.deepEqual(
    choices.map((c) => [c.id, c.disabled]),
    [
      ["u_binh", false],
      ["u_dung", false],
      ["u_an", true],
      ["u_cuong", true],
    ],
  );
  assert.equal(choices[0].label, "Bình · Tạm vắng · 0/3 phiếu");
  // a waiting ticket has no holder: An can take it
  const waiting = reassignChoices([BINH, AN], { status: "waiting" });
  assert.deepEqual(
    waiting.map((c) => [c.id, c.disabled]),
    [
      ["u_an", false],
      ["u_binh", false],
    ],
  );
  assert.deepEqual(reassignChoices(undefined, CLAIMED), []);
  assert.deepEqual(reassignChoices([{ name: "không id" }, null], CLAIMED), []);
});

test("the note after a move names both agents", () => {
  assert.equal(reassignedNote({ claimed_by: "Bình", previous_agent: "An" }), "Đã chuyển phiếu từ An sang Bình.");
  assert.equal(reassignedNote({ claimed_by: "Bình", previous_agent: null }), "Đã giao phiếu cho Bình.");
});

test("reassign errors: the service's message, else a Vietnamese fall-back", () => {
  const full = new ApiError(409, { error: "at_capacity", message: "Nhân viên Cường đang xử lý 2 phiếu, đã đạt giới hạn 2 phiếu." });
  assert.equal(errorMessage(full, "reassign"), full.data.message);
  assert.equal(
    errorMessage(new ApiError(409, {}), "reassign"),
    "Không chuyển được phiếu: nhân viên đã đủ phiếu hoặc phiếu đã thay đổi.",
  );
  const refused = new ApiError(403, { message: "Tài khoản của bạn không có quyền dùng chức năng này." });
  assert.equal(errorMessage(refused, "reassign"), "Tài khoản của bạn không có quyền dùng chức năng này.");
  assert.equal(errorMessage(new ApiError(403, {}), "reassign"), "Bạn không có quyền thực hiện thao tác này.");
});
