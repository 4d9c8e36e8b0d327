/** Largest message any variant sends or accepts: room above the 1 MiB scenarios, which grpc-js' 4 MiB default would also allow. */
export const LIMIT = 16 * 1024 * 1024;

/** The same limits as grpc-js channel and server options. */
export const BIG = { "grpc.max_receive_message_length": LIMIT, "grpc.max_send_message_length": -1 };
