/**
 * Confluent's subject name strategies: which registry subject a topic's schema is registered under.
 * sluice's default puts several tables (record types) in one domain topic: TopicRecordNameStrategy.
 */
export const SUBJECT_STRATEGIES = ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy'] as const;
export type SubjectStrategy = (typeof SUBJECT_STRATEGIES)[number];

export function subjectName(strategy: SubjectStrategy, topic: string, recordFullName: string, isKey = false): string {
  switch (strategy) {
    case 'TopicNameStrategy':
      return `${topic}-${isKey ? 'key' : 'value'}`;
    case 'RecordNameStrategy':
      return recordFullName;
    case 'TopicRecordNameStrategy':
      return `${topic}-${recordFullName}`;
  }
}
