/**
 * The one zod of every thread: `zod/mini`, whose schemas are plain functions of each other (cheap
 * to build, and a bundle keeps only the kinds used), with the English messages classic zod loads
 * by itself and mini does not. Those messages reach clients (-32602 "Invalid params: field: …",
 * the tools' argument errors) and people (config errors), so every module that builds or parses
 * a schema imports `* as z` from here, never from zod itself: the locale is set before any parse.
 * (A namespace import, not zod's `z` object: the bundler drops what no `z.…` names only then.)
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
