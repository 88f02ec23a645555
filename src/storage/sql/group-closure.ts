/**
 * Transitive group membership as SQL subqueries, shared by every query that asks "who is in this group"
 * or "which groups hold this user" (policy.ts, management.ts). A user in group C, with C nested in B and
 * B in A, is a member of A, B and C (core/policy/ports.ts).
 *
 * Each helper is one parenthesised subquery with its own recursive CTE, so it can sit after `IN`, in a
 * FROM or a JOIN, inside a bigger statement (an INSERT ... SELECT included) on SQLite and PostgreSQL
 * alike. The CTE carries the depth and stops at MAX_GROUP_NESTING_DEPTH links (which addGroupToGroup
 * never lets nesting exceed), so it ends even on a cycle; UNION keeps each row once per depth.
 *
 * Ids are given as a Kysely select query builder of one column (compiled as `IN (select ...)`; not a raw
 * `sql` fragment, which would get no parentheses) or as a list of values and scalar expressions
 * (`IN (?, ?, (select ...))`); an empty list selects nothing.
 */
import { type Expression, type RawBuilder, sql } from 'kysely';
import { MAX_GROUP_NESTING_DEPTH } from '../../core/policy/ports.js';

const DEPTH = sql.lit(MAX_GROUP_NESTING_DEPTH);

/** A select query of one column, or a list of values and scalar expressions (a select query there is a scalar subquery). */
export type IdSource = ReadonlyArray<string | Expression<unknown>> | Expression<Record<string, string | null>>;

/** The parenthesised right-hand side of an IN. A query compiles with its own parentheses. */
function inOperand(ids: IdSource): RawBuilder<unknown> {
  if (!Array.isArray(ids)) return sql`${ids as Expression<unknown>}`;
  return ids.length === 0 ? sql`(null)` : sql`(${sql.join(ids)})`;
}

/**
 * `(select user_id ...)`: the users in the groups `groupIds` or in any group nested in them, directly
 * added. A user may appear more than once (reached through several groups): use it after `IN`, or
 * select distinct.
 */
export function usersInGroups(groupIds: IdSource): RawBuilder<string> {
  return sql<string>`(with recursive down_groups(id, depth) as (
      select g.id, 0 from groups g where g.id in ${inOperand(groupIds)}
      union
      select gg.child_id, dg.depth + 1 from group_groups gg join down_groups dg on gg.parent_id = dg.id
      where dg.depth < ${DEPTH}
    )
    select m.user_id from group_members m where m.group_id in (select dg.id from down_groups dg))`;
}

/**
 * `(select user_id, group_id ...)`: for each of the users `userIds`, every group holding it directly or
 * through nesting, each (user, group) once.
 */
export function groupsOfUsers(userIds: IdSource): RawBuilder<{ user_id: string; group_id: string }> {
  return sql<{ user_id: string; group_id: string }>`(with recursive up_groups(user_id, group_id, depth) as (
      select m.user_id, m.group_id, 0 from group_members m where m.user_id in ${inOperand(userIds)}
      union
      select ug.user_id, gg.parent_id, ug.depth + 1 from group_groups gg join up_groups ug on gg.child_id = ug.group_id
      where ug.depth < ${DEPTH}
    )
    select distinct ug.user_id, ug.group_id from up_groups ug)`;
}
