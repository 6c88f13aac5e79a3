// Tasks in the words people use: due times relative to today ("Today 15:00",
// "Tomorrow", "Tue 8:30", the year only when it is not this one) and
// repetition in plain words ("Every weekday", "Every month on the 6th",
// "Every 2 weeks on Mon and Thu") rather than RFC 5545. In the user's locale
// for names and clock, in the browser's time zone. Pure functions: the
// browser test calls them with a fixed `now`.

const DAY_MS = 86_400_000;
/** RFC 5545 weekday codes, Monday first, as dates count them from Sunday. */
const CODES = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"];

/** A day's short name in the user's locale ("Tue"), for a code ("TU"). */
function dayName(code, style = "short") {
  // 4 January 2026 was a Sunday.
  const date = new Date(2026, 0, 4 + CODES.indexOf(code));
  return date.toLocaleDateString(undefined, { weekday: style });
}

function clock(date) {
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

/** Whole days from the start of `now`'s day to the start of `date`'s, in local time. */
function daysBetween(now, date) {
  const start = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((start(date) - start(now)) / DAY_MS);
}

/**
 * A due time as people say it, relative to `now`: "Today 15:00",
 * "Tomorrow 09:00", "Yesterday 18:00", a weekday within the coming week
 * ("Tue 8:30"), else the date ("8 Dec 15:00"), with the year only when it
 * is not this one.
 */
export function when(iso, now = new Date()) {
  const date = new Date(iso);
  const days = daysBetween(now, date);
  const time = clock(date);
  if (days === 0) return `Today ${time}`;
  if (days === 1) return `Tomorrow ${time}`;
  if (days === -1) return `Yesterday ${time}`;
  if (days > 1 && days < 7) return `${dayName(CODES[date.getDay()])} ${time}`;
  const sameYear = date.getFullYear() === now.getFullYear();
  const day = date.toLocaleDateString(undefined, { day: "numeric", month: "short", ...(sameYear ? {} : { year: "numeric" }) });
  return `${day} ${time}`;
}

/** Whether an open task's due time has passed. */
export function overdue(task, now = new Date()) {
  return !task.completed && Boolean(task.due_at) && new Date(task.due_at) < now;
}

function ordinal(n) {
  const rules = new Intl.PluralRules("en", { type: "ordinal" });
  const suffix = { one: "st", two: "nd", few: "rd", other: "th" }[rules.select(n)];
  return `${n}${suffix}`;
}

/** "Mon", "Mon and Thu", "Mon, Wed and Fri". */
function joined(items) {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const POSITIONS = { 1: "first", 2: "second", 3: "third", 4: "fourth", "-1": "last", "-2": "second to last" };
const UNITS = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year", HOURLY: "hour", MINUTELY: "minute" };

/**
 * An RFC 5545 rule in plain words: "Every weekday", "Every 2 weeks on Mon
 * and Thu", "Every month on the 6th", "Every month on the last Friday",
 * "Every year on 8 Dec", with ", 5 times" or ", until 8 Dec 2027". A rule
 * with parts it cannot say in words is "Repeats (custom rule)".
 */
export function repeats(rule) {
  const parts = Object.fromEntries(
    rule.split(";").filter(Boolean).map((p) => p.split("=")).map(([k, v]) => [k.toUpperCase(), v || ""]),
  );
  const unit = UNITS[parts.FREQ];
  const known = ["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST"];
  if (!unit || Object.keys(parts).some((k) => !known.includes(k))) return "Repeats (custom rule)";
  const every = Number(parts.INTERVAL || 1);
  if (!(every >= 1)) return "Repeats (custom rule)";
  let words = every === 1 ? `Every ${unit}` : `Every ${every} ${unit}s`;
  const days = parts.BYDAY ? parts.BYDAY.split(",") : [];
  if (days.length && parts.FREQ === "WEEKLY") {
    if (!days.every((d) => CODES.includes(d))) return "Repeats (custom rule)";
    const set = new Set(days);
    if (every === 1 && set.size === 5 && WEEKDAYS.every((d) => set.has(d))) words = "Every weekday";
    else if (every === 1 && set.size === 2 && set.has("SA") && set.has("SU")) words = "Every weekend";
    else if (every === 1 && set.size === 7) words = "Every day";
    else {
      const ordered = CODES.slice(1).concat("SU").filter((d) => set.has(d));
      words += ` on ${joined(ordered.map((d) => dayName(d)))}`;
    }
  } else if (days.length && parts.FREQ === "MONTHLY" && days.length === 1) {
    const match = /^([+-]?\d)?([A-Z]{2})$/.exec(days[0]);
    if (!match || !CODES.includes(match[2])) return "Repeats (custom rule)";
    const position = match[1] ? POSITIONS[String(Number(match[1]))] : "every";
    if (!position) return "Repeats (custom rule)";
    words += ` on the ${position} ${dayName(match[2], "long")}`.replace("the every", "every");
  } else if (days.length) {
    return "Repeats (custom rule)";
  }
  if (parts.BYMONTHDAY) {
    const day = Number(parts.BYMONTHDAY);
    if (!Number.isInteger(day) || day === 0) return "Repeats (custom rule)";
    const said = day === -1 ? "last day" : day > 0 ? ordinal(day) : `${ordinal(-day)} to last day`;
    if (parts.FREQ === "YEARLY" && parts.BYMONTH) {
      const month = new Date(2026, Number(parts.BYMONTH) - 1, 1).toLocaleDateString(undefined, { month: "short" });
      words += day > 0 ? ` on ${day} ${month}` : ` on the ${said} of ${month}`;
    } else {
      words += ` on the ${said}`;
    }
  } else if (parts.BYMONTH) {
    return "Repeats (custom rule)";
  }
  if (parts.COUNT) words += `, ${Number(parts.COUNT)} times`;
  if (parts.UNTIL) {
    const m = /^(\d{4})(\d{2})(\d{2})/.exec(parts.UNTIL);
    if (!m) return "Repeats (custom rule)";
    const until = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    words += `, until ${until.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })}`;
  }
  return words;
}

/** What an activity entry's event means, in a word or two. */
const HAPPENED = {
  "task.created": "Created",
  "task.updated": "Changed",
  "task.completed": "Completed",
  "task.deleted": "Deleted",
  "task.due": "Reminded",
  "list.member_added": "Joined",
  "list.member_removed": "Left",
};

/** An activity entry in a line: "Completed “Pay rent”, Today 9:02 AM". */
export function happened(entry, now = new Date()) {
  const what = HAPPENED[entry.kind] || entry.kind;
  return `${what}: ${entry.summary}, ${when(entry.occurred_at, now)}`;
}
