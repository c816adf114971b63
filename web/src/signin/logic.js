/* Rules of the sign-in page that need no DOM (unit-tested). */

export const MIN_PASSWORD = 10;

/** What is wrong with a new password and its repetition, or null. */
export function passwordProblem(password, repeated) {
  if ((password || "").length < MIN_PASSWORD) return `Mật khẩu mới cần ít nhất ${MIN_PASSWORD} ký tự.`;
  if (password !== repeated) return "Hai lần nhập mật khẩu mới chưa khớp nhau.";
  return null;
}
