import { RecordType } from "@operator-plugin-framework/proto/example/dns";

/** The wire enum of each `spec.type` the example supports. */
export const recordTypes: Readonly<Record<string, RecordType>> = {
  A: RecordType.RECORD_TYPE_A,
  AAAA: RecordType.RECORD_TYPE_AAAA,
  CNAME: RecordType.RECORD_TYPE_CNAME,
  TXT: RecordType.RECORD_TYPE_TXT,
};
