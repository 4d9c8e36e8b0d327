import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";

/** A service and its implementation: exactly what `grpc.Server.addService` takes. */
export type ServiceEntry = readonly [ServiceDefinition, UntypedServiceImplementation | object];
