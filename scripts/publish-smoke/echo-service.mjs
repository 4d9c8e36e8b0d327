// A service written by hand, as a grpc-js ServiceDefinition with JSON
// serialization: the smoke test needs no generated code, and proves the
// framework takes any definition grpc-js's addService would take.
const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString("utf8")),
};

export const EchoService = {
  echo: {
    path: "/smoke.v1.EchoService/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
    originalName: "echo",
  },
};
