/** The narrowing game of docs/protocol.md §24, pure: its grid, moves, leaf twins, players and referee. */
export * from './grid.ts';
export * from './honest-view.ts';
export * from './leaves.ts';
export * from './moves.ts';
export * from './operator.ts';
export * from './players.ts';
export * from './referee.ts';
export * from './rule.ts';
