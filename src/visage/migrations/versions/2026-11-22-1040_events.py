"""events tables: events, attendees, photos, faces, selfie subscriptions, notifications.

Revision ID: 0005_events
Revises: 0004_access
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from pgvector.sqlalchemy import Vector
import sqlalchemy as sa
from alembic import op

revision: str = "0005_events"
down_revision: str | None = "0004_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'private', name='event_visibility'), nullable=False),
    sa.Column('face_search_enabled', sa.Boolean(), nullable=False),
    sa.Column('watermark_previews', sa.Boolean(), nullable=False),
    sa.Column('access_code', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('access_code', name=op.f('uq_events_access_code')),
    sa.UniqueConstraint('tenant_id', 'slug', name='uq_events_tenant_slug')
    )
    op.create_index(op.f('ix_events_tenant_id'), 'events', ['tenant_id'], unique=False)
    op.create_table('event_attendees',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_attendees_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_event_attendees_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_attendees'))
    )
    op.create_index(op.f('ix_event_attendees_tenant_id'), 'event_attendees', ['tenant_id'], unique=False)
    op.create_index('users_email_event_unique', 'event_attendees', ['event_id', sa.literal_column('lower(email)')], unique=True)
    op.create_index('users_username_event_unique', 'event_attendees', ['event_id', sa.literal_column('lower(username)')], unique=True)
    op.create_table('event_photos',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'indexing', 'indexed', 'failed', name='photo_status'), nullable=False),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('face_count', sa.Integer(), nullable=False),
    sa.Column('index_attempts', sa.Integer(), nullable=False),
    sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('index_seconds', sa.Float(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_photos_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_event_photos_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_event_photos_uploaded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_photos')),
    sa.UniqueConstraint('event_id', 'content_hash', name='uq_event_photos_event_hash')
    )
    op.create_index('ix_event_photos_event_status', 'event_photos', ['event_id', 'status'], unique=False)
    op.create_index(op.f('ix_event_photos_tenant_id'), 'event_photos', ['tenant_id'], unique=False)
    op.create_table('event_photo_faces',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('photo_id', sa.Uuid(), nullable=False),
    sa.Column('left', sa.Integer(), nullable=False),
    sa.Column('top', sa.Integer(), nullable=False),
    sa.Column('right', sa.Integer(), nullable=False),
    sa.Column('bottom', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('sharpness', sa.Float(), nullable=False),
    sa.Column('usable', sa.Boolean(), nullable=False),
    sa.Column('embedding', Vector(128), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_photo_faces_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['event_photos.id'], name=op.f('fk_event_photo_faces_photo_id_event_photos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_event_photo_faces_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_photo_faces'))
    )
    op.create_index('ix_event_photo_faces_event', 'event_photo_faces', ['event_id'], unique=False)
    op.create_index(op.f('ix_event_photo_faces_photo_id'), 'event_photo_faces', ['photo_id'], unique=False)
    op.create_index(op.f('ix_event_photo_faces_tenant_id'), 'event_photo_faces', ['tenant_id'], unique=False)
    op.create_table('event_selfie_subscriptions',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('attendee_id', sa.Uuid(), nullable=False),
    sa.Column('embedding', Vector(128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['attendee_id'], ['event_attendees.id'], name=op.f('fk_event_selfie_subscriptions_attendee_id_event_attendees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_selfie_subscriptions_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_event_selfie_subscriptions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_selfie_subscriptions')),
    sa.UniqueConstraint('attendee_id', name=op.f('uq_event_selfie_subscriptions_attendee_id'))
    )
    op.create_index(op.f('ix_event_selfie_subscriptions_event_id'), 'event_selfie_subscriptions', ['event_id'], unique=False)
    op.create_index(op.f('ix_event_selfie_subscriptions_tenant_id'), 'event_selfie_subscriptions', ['tenant_id'], unique=False)
    op.create_table('event_photo_notifications',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('photo_id', sa.Uuid(), nullable=False),
    sa.Column('distance', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['event_photos.id'], name=op.f('fk_event_photo_notifications_photo_id_event_photos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['event_selfie_subscriptions.id'], name=op.f('fk_event_photo_notifications_subscription_id_event_selfie_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_event_photo_notifications_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_photo_notifications')),
    sa.UniqueConstraint('subscription_id', 'photo_id', name='uq_event_photo_notifications_subscription_photo')
    )
    op.create_index(op.f('ix_event_photo_notifications_tenant_id'), 'event_photo_notifications', ['tenant_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_event_photo_notifications_tenant_id'), table_name='event_photo_notifications')
    op.drop_table('event_photo_notifications')
    op.drop_index(op.f('ix_event_selfie_subscriptions_tenant_id'), table_name='event_selfie_subscriptions')
    op.drop_index(op.f('ix_event_selfie_subscriptions_event_id'), table_name='event_selfie_subscriptions')
    op.drop_table('event_selfie_subscriptions')
    op.drop_index(op.f('ix_event_photo_faces_tenant_id'), table_name='event_photo_faces')
    op.drop_index(op.f('ix_event_photo_faces_photo_id'), table_name='event_photo_faces')
    op.drop_index('ix_event_photo_faces_event', table_name='event_photo_faces')
    op.drop_table('event_photo_faces')
    op.drop_index(op.f('ix_event_photos_tenant_id'), table_name='event_photos')
    op.drop_index('ix_event_photos_event_status', table_name='event_photos')
    op.drop_table('event_photos')
    op.drop_index('users_username_event_unique', table_name='event_attendees')
    op.drop_index('users_email_event_unique', table_name='event_attendees')
    op.drop_index(op.f('ix_event_attendees_tenant_id'), table_name='event_attendees')
    op.drop_table('event_attendees')
    op.drop_index(op.f('ix_events_tenant_id'), table_name='events')
    op.drop_table('events')
    sa.Enum(name='photo_status').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='event_visibility').drop(op.get_bind(), checkfirst=True)
