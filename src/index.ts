import { createOctoplexAppFn } from "./probot-app";

// `probot run` requires the module itself to be the app function.
export = createOctoplexAppFn();
