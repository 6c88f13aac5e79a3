// Changes made offline that the server did not take when they were sent
// (offline.js), above the task list until the user settles them: a conflict,
// the user's change beside the task as it is now, with the edit form's choice
// (list.js's conflict view); or a refusal, in words, to dismiss.

import { settle } from "./offline.js";
import { conflictBox, summary } from "./list.js";

const $ = (id) => document.getElementById(id);

/** What the user did to the task while offline, in words. */
function yours(problem) {
  const { op, theirs } = problem;
  if (op.kind === "complete") return `You completed “${problem.title}” while offline`;
  if (op.kind === "reopen") return `You reopened “${problem.title}” while offline`;
  const mine = { ...theirs, ...op.changes };
  return `While offline you changed “${problem.title}” to “${mine.title}”: ${summary(mine)}`;
}

/** Shows `problems`; `say` speaks in the status line, `reload` shows the tasks again once one is settled. */
export function showProblems(problems, { say, reload }) {
  $("problems").hidden = !problems.length;
  const settled = async (key, mine, message) => {
    try {
      await settle(key, mine);
      say(message);
    } catch (e) {
      say(e.message);
    }
    await reload();
    $("tasks-heading").focus();
  };
  const items = problems.map((problem) => {
    const li = document.createElement("li");
    if (problem.op) {
      const text = `${yours(problem)}. It was changed elsewhere meanwhile; now it is:`;
      li.append(conflictBox(text, problem.theirs, {
        keep: () => settled(problem.key, false, `Kept the newer “${problem.theirs.title}”.`),
        overwrite: () => settled(problem.key, true, `Saved your change to “${problem.title}”.`),
      }));
    } else {
      const text = document.createElement("p");
      text.textContent = `“${problem.title}” was not sent: ${problem.message}`;
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.textContent = "Dismiss";
      dismiss.setAttribute("aria-label", `Dismiss: ${problem.title}`);
      dismiss.addEventListener("click", () => settled(problem.key, false, ""));
      li.append(text, dismiss);
    }
    return li;
  });
  $("problem-list").replaceChildren(...items);
}
