import type { GreeterServiceServer } from "@operator-plugin-framework/proto/example";

/**
 * A greeter whose every method does nothing: for tests of connecting, where
 * no call is made but `connectPlugin` needs a complete implementation.
 */
export const noopGreeter: GreeterServiceServer = {
  sayHello: () => {},
  countGreetings: () => {},
  collectNames: () => {},
  chat: () => {},
};
