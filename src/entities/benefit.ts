import { defineEntity } from './entity.js';
import { audit, flag, key, text } from './field.js';

/** Benefit (`BenefitCodes`), 18 fields in the vendor's order. */
export const benefit = defineEntity({
  name: 'benefit',
  label: 'benefit',
  schemaName: 'BenefitCodes',
  table: 'benefits',
  path: 'benefits',
  keyParam: 'benefitCode',
  filters: { benefitCategory: 'benefit_Category' },
  fields: [
    key('benefit_Code', 10),
    flag('allow_Flat_Tax'),
    text('benefit_Category', 32, { references: 'benefitCategory' }),
    text('benefit_Description', 64),
    text('default_Unit_Type', 16),
    audit.entryDate,
    audit.entryUser,
    text('hipaA_Code', 8),
    text('invalid_Diag_Ex_Code', 6),
    text('invalid_Procedure_Ex_Code', 6),
    text('invalid_Prov_Type_Ex_Code', 6),
    text('invalid_Specialty_Ex_Code', 6),
    text('medicare', 1, { required: true }),
    text('pend_Ex_Code', 6),
    text('pend_Flag', 1, { required: true }),
    text('require_Type_Of_Svc', 1),
    audit.updateDate,
    audit.updateUser,
  ],
});
