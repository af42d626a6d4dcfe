import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subjectName } from '../../src/codec/subject-strategy.js';

test("subject names follow Confluent's three strategies", () => {
  assert.equal(subjectName('TopicNameStrategy', 'coupons', 'sluice.public.coupon'), 'coupons-value');
  assert.equal(subjectName('TopicNameStrategy', 'coupons', 'sluice.public.coupon', true), 'coupons-key');
  assert.equal(subjectName('RecordNameStrategy', 'coupons', 'sluice.public.coupon'), 'sluice.public.coupon');
  assert.equal(subjectName('TopicRecordNameStrategy', 'coupons', 'sluice.public.coupon'), 'coupons-sluice.public.coupon');
  assert.equal(subjectName('TopicRecordNameStrategy', 'coupons', 'sluice.public.coupon_history'), 'coupons-sluice.public.coupon_history');
});
