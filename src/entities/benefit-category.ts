import { defineEntity } from './entity.js';
import { audit, key, text } from './field.js';

/** Benefit category (`BenefitCategory`): the grouping a benefit refers to. Vendor field order. */
export const benefitCategory = defineEntity({
  name: 'benefitCategory',
  label: 'benefit category',
  schemaName: 'BenefitCategory',
  table: 'benefit_categories',
  path: 'benefit-categories',
  keyParam: 'benefitCategory',
  fields: [
    key('benefit_Category', 32),
    text('description', 128),
    audit.entryDate,
    audit.entryUser,
    audit.updateDate,
    audit.updateUser,
  ],
});
